/**
 * The tests' one poll helper, for conditions that have no event to await (a Redis role change, a
 * process's port, a status code that will change). Where an event exists, await the event instead.
 */

/**
 * Polls `check` (short awaits, never a fixed sleep) until it returns a value other than
 * undefined/false, and returns that value; throws naming `what` after `limitMs`, also when a
 * single check hangs.
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  limitMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last: unknown;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('check still pending')), Math.max(deadline - Date.now(), 1));
    });
    try {
      const value = await Promise.race([check(), hung]);
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${limitMs} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
