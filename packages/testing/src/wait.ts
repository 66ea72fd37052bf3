/**
 * Polls `check` every `intervalMs` until it holds, for at most `timeoutMs`; bounded, never
 * hangs a test. (A bench timing what it waits for polls more often.)
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
