import { execFileSync, spawnSync } from 'node:child_process';
import { BenchFailure } from './load';

/**
 * CPU pinning. Unpinned, ChartMuseum (Go) spreads over both cores of a 2-core machine while the load
 * generator competes with it and with Node for them, so a figure says little about any one server. Pinned,
 * the generator (wrk) runs on one core and the measured server, all its threads, on the other: every figure
 * is what one server core does. The unpinned figures are still reported, labelled as such.
 */
export interface Cores {
  /** wrk runs here (`taskset -c`). */
  generator: number;
  /** The measured server, every thread (`taskset -a -pc`). */
  server: number;
  /** What this process may use: the affinity an unpinned server gets back. */
  all: string;
}

const TASKSET_HINT = 'taskset is in util-linux (Debian: apt-get install util-linux)';

/** Parses taskset's "current affinity list: 0-3,6" into core numbers. */
export function parseCpuList(list: string): number[] {
  const cores: number[] = [];
  for (const part of list.trim().split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (!Number.isInteger(a)) continue;
    for (let c = a; c <= (Number.isInteger(b) ? b : a); c++) cores.push(c);
  }
  return cores;
}

/** The two cores the bench uses, or a failure that says what is missing. */
export function pinningCores(): Cores {
  const probe = spawnSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new BenchFailure(
      `taskset is missing or failed (${probe.error?.message ?? probe.stderr.trim()}); the bench pins the ` +
        `load generator and the server to separate cores. ${TASKSET_HINT}`,
    );
  }
  const list = /:\s*([\d,-]+)\s*$/.exec(probe.stdout)?.[1] ?? '';
  const cores = parseCpuList(list);
  if (cores.length < 2) {
    throw new BenchFailure(
      `the bench needs at least 2 CPU cores (one for wrk, one for the server) and this process may use ` +
        `${cores.length} (${list || probe.stdout.trim()}); run it on a machine or container with 2 or more`,
    );
  }
  return { generator: cores[0], server: cores[1], all: list };
}

/** Sets the affinity of `pid` and every one of its threads (threads made later inherit it). */
export function setAffinity(pid: number, cpuList: string): void {
  try {
    execFileSync('taskset', ['-a', '-pc', cpuList, String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new BenchFailure(`taskset -a -pc ${cpuList} ${pid} failed: ${stderr || (e as Error).message}`);
  }
}

export type Mode = 'pinned' | 'unpinned';
export const MODES: readonly Mode[] = ['pinned', 'unpinned'];

/** Pins `pid` to the server core, or gives it every core back. */
export function placeServer(pid: number, mode: Mode, cores: Cores): void {
  setAffinity(pid, mode === 'pinned' ? String(cores.server) : cores.all);
}
