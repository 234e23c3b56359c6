/**
 * The refresh storm: `count` requests from one session, all in flight at once, right after its
 * access token expired. Each request gets a socket of its own (no pooling), so none waits for
 * another to finish before it is sent.
 */
import http from 'node:http';

export interface StormRequestResult {
  statuses: Record<string, number>;
  /** Answers other than 200, plus requests that failed at the socket. */
  errors: number;
  /** Requests fully sent before the first answer arrived: how concurrent the storm really was. */
  sentBeforeFirstAnswer: number;
  seconds: number;
}

export async function fireStorm(
  baseUrl: string,
  pathPrefix: string,
  headers: Record<string, string>,
  count: number,
): Promise<StormRequestResult> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const statuses: Record<string, number> = {};
  let errors = 0;
  let sent = 0;
  let sentBeforeFirstAnswer = -1;
  const one = (i: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const req = http.get(`${baseUrl}${pathPrefix}/${i}`, { agent, headers }, (res) => {
        if (sentBeforeFirstAnswer < 0) sentBeforeFirstAnswer = sent;
        const key = String(res.statusCode);
        statuses[key] = (statuses[key] ?? 0) + 1;
        if (res.statusCode !== 200) errors += 1;
        res.resume();
        res.once('end', resolve);
        res.once('error', () => {
          errors += 1;
          resolve();
        });
      });
      req.once('finish', () => (sent += 1));
      req.once('error', () => {
        statuses.socket_error = (statuses.socket_error ?? 0) + 1;
        errors += 1;
        resolve();
      });
    });
  const started = process.hrtime.bigint();
  try {
    await Promise.all(Array.from({ length: count }, (_, i) => one(i)));
  } finally {
    agent.destroy();
  }
  return {
    statuses,
    errors,
    sentBeforeFirstAnswer: Math.max(sentBeforeFirstAnswer, 0),
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}
