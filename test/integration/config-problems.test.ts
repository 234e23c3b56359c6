/**
 * The real process with several configuration problems (issue 10): exit 1, one `config error:` line
 * per problem, each naming its variable (and file key), and no port opened.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { freePort } from '../helpers/ports.js';
import { spawnGateway } from '../helpers/process.js';

/** stderr's lines, without Node's own warnings. */
function lines(stderr: string): string[] {
  return stderr
    .trim()
    .split('\n')
    .filter((l) => l !== '' && !l.includes('ExperimentalWarning') && !l.includes('--trace-warnings'));
}

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('start-up with several bad settings', () => {
  it('prints every problem on its own line, then exits 1 without opening a port', async () => {
    const [port, metricsPort] = await Promise.all([freePort(), freePort()]);
    const dir = mkdtempSync(path.join(tmpdir(), 'bff-problems-'));
    const file = path.join(dir, 'gateway.yaml');
    writeFileSync(file, 'session:\n  maxAge: 12 hours\nroutes:\n  - { prefix: api, target: http://a }\n');
    const proc = spawnGateway({
      BFF_CONFIG: file,
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      OIDC_ISSUER: 'http://idp.example.com',
      OIDC_CLIENT_ID: '',
      LOG_LEVEL: 'loud',
      SESSION_SECRET: 'hunter2',
    });
    expect(await proc.exited).toBe(1);
    const got = lines(proc.stderr());
    expect(got).toEqual([
      expect.stringMatching(
        /^config error: OIDC_ISSUER must use https \(got "http:\/\/idp\.example\.com"\): .*OIDC_ALLOW_INSECURE_HTTP=true/,
      ),
      expect.stringMatching(
        /^config error: OIDC_CLIENT_ID is required: set it \(or oidc\.clientId in .*gateway\.yaml\) to /,
      ),
      expect.stringMatching(
        /^config error: SESSION_SECRET entry 1 has 7 characters, at least 32 are needed: /,
      ),
      expect.stringMatching(
        new RegExp(`^config error: SESSION_MAX_AGE \\(session\\.maxAge in ${file}\\) must be a duration`),
      ),
      expect.stringMatching(
        /^config error: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)$/,
      ),
      expect.stringMatching(
        new RegExp(`^config error: routes\\[0\\]\\.prefix \\(in ${file}\\) must start with /`),
      ),
    ]);
    expect(proc.stderr()).not.toContain('hunter2');
    expect(proc.stderr()).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
    expect(proc.stdout()).not.toContain('listening');
    expect(await listening(port)).toBe(false);
    expect(await listening(metricsPort)).toBe(false);
  });
});
