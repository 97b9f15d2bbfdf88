import type { ChildProcess } from 'node:child_process';

type Task = () => Promise<unknown> | unknown;

/**
 * Undo actions registered as resources are acquired (servers, databases, temp dirs), run newest first
 * on success, failure and Ctrl-C alike, so that an aborted bench leaves no postgres database, no
 * listening server and no gigabyte of charts in /tmp behind.
 */
const tasks: Array<{ label: string; run: Task }> = [];
const children = new Set<ChildProcess>();
let installed = false;
let cleaning: Promise<void> | null = null;
let interrupted = false;

/** After Ctrl-C, work in flight fails as its servers go away: that is not a bench failure worth reporting. */
export function isInterrupted(): boolean {
  return interrupted;
}

export function onCleanup(label: string, run: Task): () => Promise<void> {
  const entry = { label, run };
  tasks.push(entry);
  // Resources torn down early (a server restarted mid-run) drop their entry, so it never runs twice.
  return async () => {
    const i = tasks.indexOf(entry);
    if (i >= 0) tasks.splice(i, 1);
    await run();
  };
}

/** Children are also killed synchronously at exit, in case the process dies before cleanup awaits. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    while (tasks.length) {
      const t = tasks.pop()!;
      try {
        await t.run();
      } catch (e) {
        process.stderr.write(`bench: cleanup "${t.label}" failed: ${(e as Error).message}\n`);
      }
    }
  })();
  return cleaning;
}

export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      process.stderr.write(`\nbench: ${signal}, cleaning up…\n`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  process.once('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
}
