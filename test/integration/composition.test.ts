/**
 * The composition root: main.ts gets `{ app, listen, close }` and nothing else; parts built by the caller
 * (buildGatewayParts, as test/helpers/gateway.ts does) are the very parts the gateway serves from, on
 * both sides of the front door.
 */
import { createHmac, randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { buildGatewayParts, type GatewayParts } from '../../src/gateway-parts.js';
import { createLogger } from '../../src/observability/logger.js';
import { SESSION_SECRET } from '../helpers/gateway.js';
import { captureLogs } from '../helpers/logs.js';
import { freePort } from '../helpers/ports.js';
import { sampleRecord } from '../helpers/sessions.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/** express-session's signed cookie value for `sid` (`s:<id>.<HMAC-SHA256 base64>`, URL-encoded). */
function signedCookie(sid: string): string {
  const mac = createHmac('sha256', SESSION_SECRET).update(sid).digest('base64').replace(/=+$/, '');
  return `bff-session=${encodeURIComponent(`s:${sid}.${mac}`)}`;
}

let upstream: Upstream;
let config: GatewayConfig;
let baseUrl: string;
let parts: GatewayParts;
let gateway: Gateway;
// A session written through the caller's parts, before any request.
const sid = randomBytes(32).toString('base64url');
const record = sampleRecord(Date.now());

beforeAll(async () => {
  upstream = await startUpstream();
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  // The in-memory store: each set of parts has its own, so only the parts the gateway uses hold the session.
  config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    BFF_PUBLIC_URL: baseUrl,
    // Never contacted here: the session below is stored directly and its access token is still fresh.
    OIDC_ISSUER: 'http://127.0.0.1:9/issuer',
    OIDC_CLIENT_ID: 'bff',
    OIDC_CLIENT_SECRET: 'bff-test-client-secret-0123456789abcdef',
    SESSION_SECRET,
    API_TARGET: upstream.url,
  });
  const options = { logger: createLogger('warn', captureLogs().stream) };
  parts = buildGatewayParts(config, options);
  gateway = createGateway(config, options, parts);
  await parts.records.write(sid, record);
  await gateway.listen();
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.stop();
});

describe('the composition root', () => {
  it('gives the process only app, listen and close', () => {
    expect(Object.keys(gateway).sort()).toEqual(['app', 'close', 'listen']);
  });

  it("serves the Express side from the caller's parts: the status page sees the stored session", async () => {
    const res = await request(gateway.app).get('/').set('Cookie', signedCookie(sid));
    expect(res.status).toBe(200);
    expect(res.text).toContain('Signed in as <strong id="user-name">Alice Liddell</strong>');

    // A gateway on parts of its own (main.ts's way) has its own store: the same cookie is nobody there.
    const own = createGateway(config, { logger: createLogger('warn', captureLogs().stream) });
    try {
      const other = await request(own.app).get('/').set('Cookie', signedCookie(sid));
      expect(other.text).toContain('Not signed in');
    } finally {
      await own.close();
    }
  });

  it("serves the /api side from the caller's parts: the route gets the stored session's token", async () => {
    upstream.reset();
    const res = await fetch(`${baseUrl}/api/orders`, {
      headers: { cookie: signedCookie(sid), 'x-csrf': '1' },
    });
    expect(res.status).toBe(200);
    expect(upstream.bearerTokens()).toEqual([record.tokens.accessToken]);
    // Without the cookie the pipeline refuses before the upstream: the session came from the store.
    const anonymous = await fetch(`${baseUrl}/api/orders`, { headers: { 'x-csrf': '1' } });
    expect(anonymous.status).toBe(401);
    expect(upstream.requests).toHaveLength(1);
  });
});
