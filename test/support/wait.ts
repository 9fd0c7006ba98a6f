/**
 * Polls `predicate` every `intervalMs` until it holds; fails naming `what`
 * after `timeoutMs`. Resolves to how long the wait took, in ms.
 * The one polling helper of the test suite.
 */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 120_000,
  intervalMs = 50,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await predicate()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Sleeps until `ms` have passed since `since` (a Date.now() value) by the
 * wall clock. A plain setTimeout can end a millisecond short of that: its
 * start is the event loop's cached time, taken before `since` was read.
 */
export async function sleepUntilElapsed(ms: number, since: number): Promise<void> {
  for (let left = ms - (Date.now() - since); left > 0; left = ms - (Date.now() - since))
    await new Promise((resolve) => setTimeout(resolve, left));
}
