import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ID, CLIENT_SECRET, SESSION_SECRET } from '../helpers/gateway.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { freePort } from '../helpers/ports.js';
import { spawnGateway, waitForStatus } from '../helpers/process.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const VALID = {
  OIDC_ISSUER: 'http://127.0.0.1:9/',
  OIDC_CLIENT_ID: 'bff',
  OIDC_CLIENT_SECRET: 'secret',
  HOST: '127.0.0.1',
};

describe('start-up refuses bad configuration: exit 1, one line naming the variable, no port opened', () => {
  it.each([
    ['OIDC_ISSUER', { ...VALID, OIDC_ISSUER: '' }],
    ['OIDC_ISSUER', { ...VALID, OIDC_ISSUER: 'http://idp.example.com' }],
    ['OIDC_CLIENT_ID', { ...VALID, OIDC_CLIENT_ID: '' }],
    ['OIDC_AUTH_PARAMS', { ...VALID, OIDC_AUTH_PARAMS: 'audience=x&state=forged' }],
    ['SESSION_IDLE_TIMEOUT', { ...VALID, SESSION_IDLE_TIMEOUT: 'ten minutes' }],
    ['REDIS_URL', { ...VALID, REDIS_URL: 'http://127.0.0.1:6379' }],
    ['REDIS_URL', { ...VALID, NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40) }],
    ['SESSION_SECRET', { ...VALID, NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:1' }],
    ['TOKEN_ENCRYPTION_KEY', { ...VALID, TOKEN_ENCRYPTION_KEY: 'c2hvcnQ=' }],
    ['PORT', { ...VALID, PORT: '70000' }],
  ])('%s', async (variable, env) => {
    const port = await freePort();
    const proc = spawnGateway({ PORT: String(port), ...env });
    expect(await proc.exited).toBe(1);
    const lines = proc
      .stderr()
      .trim()
      .split('\n')
      .filter((l) => !l.includes('ExperimentalWarning'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^config error: /);
    expect(lines[0]).toContain(variable);
    expect(proc.stdout()).not.toContain('listening');
    expect(proc.stderr()).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  });
});

describe('the real process', () => {
  let idp: TestIdp;
  let redis: RedisServer;
  beforeAll(async () => {
    [idp, redis] = await Promise.all([startIdp({ clients: [] }), startRedis()]);
  });
  afterAll(async () => {
    await idp?.stop();
    await redis?.stop();
  });

  it('runs from a config file alone, env wins over the file, and SIGTERM shuts it down with exit 0', async () => {
    const [filePort, envPort] = await Promise.all([freePort(), freePort()]);
    idp.addClient({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [
        `http://127.0.0.1:${envPort}/auth/callback`,
        `http://127.0.0.1:${filePort}/auth/callback`,
      ],
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'bff-proc-'));
    const file = path.join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      [
        `port: ${filePort}`,
        'host: 127.0.0.1',
        `publicUrl: http://127.0.0.1:${filePort}`,
        'oidc:',
        `  issuer: ${idp.issuer}`,
        `  clientId: ${CLIENT_ID}`,
        `  clientSecret: ${CLIENT_SECRET}`,
        'redis:',
        `  url: ${redis.url}`,
        'session:',
        `  secret: ${SESSION_SECRET}`,
        'logLevel: info',
      ].join('\n'),
    );

    // The file alone.
    const fromFile = spawnGateway({ BFF_CONFIG: file });
    await waitForStatus(`http://127.0.0.1:${filePort}/readyz`, 200);
    const login = await fetch(`http://127.0.0.1:${filePort}/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    expect(new URL(login.headers.get('location')!).searchParams.get('redirect_uri')).toBe(
      `http://127.0.0.1:${filePort}/auth/callback`,
    );
    fromFile.child.kill('SIGTERM');
    expect(await fromFile.exited).toBe(0);
    expect(fromFile.stdout()).toContain('shutting down');

    // Env over file.
    const withEnv = spawnGateway({
      BFF_CONFIG: file,
      PORT: String(envPort),
      BFF_PUBLIC_URL: `http://127.0.0.1:${envPort}`,
    });
    await waitForStatus(`http://127.0.0.1:${envPort}/readyz`, 200);
    const login2 = await fetch(`http://127.0.0.1:${envPort}/auth/login`, { redirect: 'manual' });
    expect(new URL(login2.headers.get('location')!).searchParams.get('redirect_uri')).toBe(
      `http://127.0.0.1:${envPort}/auth/callback`,
    );
    expect(
      await fetch(`http://127.0.0.1:${filePort}/healthz`).then(
        () => 'up',
        () => 'down',
      ),
    ).toBe('down');
    withEnv.child.kill('SIGINT');
    expect(await withEnv.exited).toBe(0);
    // Logs are JSON lines.
    for (const line of withEnv.stdout().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });
});
