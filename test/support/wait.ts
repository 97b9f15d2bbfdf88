/**
 * Polls `check` until it holds, for what settles a moment after the request that caused it (a change
 * notice heard on commit, an outbox run); throws with `what` after `timeoutMs`.
 */
export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
