/**
 * The world the adversarial data-plane corpus files share (issue 9, deliverable 6): one real stack
 * (redis-server, oidc-provider, the gateway in-process, a recording upstream behind routes of every
 * token type), two signed-in users, a raw keep-alive client, and the checks every batch ends with:
 * /healthz answers, no session appears or vanishes, pending logins grow only by the logins started,
 * each forwarded request carries exactly the contract's headers. When the file ends, the case counts
 * and outcomes are printed and every request the upstream saw must lie under a route target.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect } from 'vitest';
import { configureCorpus, Outcomes, RawClient, rawRequest, type RouteModel } from './arbitraries.js';
import { SESSION_SECRET, signIn, startStack, type SignedIn, type Stack } from './gateway.js';
import { startRecordingUpstream, type LoggedRequest, type RecordingUpstream } from './recording-upstream.js';

export interface CorpusUser {
  who: SignedIn;
  token: string;
  value: string;
}

/** Paths every upstream request must start with: the route targets' paths. */
export const UPSTREAM_TARGETS = /^\/(v1|opt|pub|lim|cc)(\/|\?|$)/;

/** Starts the data-plane corpus stack for the calling file; `label` names its case count line. */
export function useAdversarialProxyStack(label: string) {
  configureCorpus();
  let up: RecordingUpstream;
  let stack: Stack;
  let users: CorpusUser[];
  let host: string;
  let client: RawClient;
  let routes: RouteModel[];
  let secrets: string[];
  const ran: Record<string, number> = {};
  const outcomes = new Outcomes();

  beforeAll(async () => {
    up = await startRecordingUpstream();
    routes = [
      { prefix: '/api', targetPath: '/v1', token: 'user', csrf: true },
      { prefix: '/api/opt', targetPath: '/opt', token: 'optional', csrf: true },
      { prefix: '/api/pub', targetPath: '/pub', token: 'none', csrf: false },
      { prefix: '/api/lim', targetPath: '/lim', token: 'user', csrf: true, methods: ['GET', 'POST'] },
      { prefix: '/api/cc', targetPath: '/cc', token: 'client', csrf: true },
    ];
    stack = await startStack({
      idp: { accessTokenTtl: 3600 },
      loginRateLimit: 1_000_000,
      env: { LOG_LEVEL: 'warn' },
      routes: routes.map(({ targetPath, ...r }) => ({ ...r, target: `${up.url}${targetPath}` })),
    });
    host = new URL(stack.baseUrl).host;
    client = new RawClient(Number(new URL(stack.baseUrl).port));
    users = [];
    for (const login of ['alice', 'bob']) {
      const who = await signIn(stack, login);
      const record = await who.record();
      const value = /bff-session=([^;]+)/.exec(who.cookie)![1]!;
      users.push({ who, token: record.tokens.accessToken, value });
    }
    const rec = await users[0]!.who.record();
    secrets = [
      ...users.flatMap((u) => [u.token, u.value, decodeURIComponent(u.value), u.who.sid]),
      rec.tokens.refreshToken ?? '',
      rec.tokens.idToken ?? '',
      SESSION_SECRET,
      stack.env.OIDC_CLIENT_SECRET ?? '',
    ].filter((s) => s.length > 0);
  }, 60_000);

  afterAll(async () => {
    const total = Object.values(ran).reduce((a, b) => a + b, 0);
    console.log(
      `adversarial (proxy, ${label}): ${total} cases ${JSON.stringify(ran)}\n${outcomes.summary()}`,
    );
    client?.drop();
    try {
      // Whatever the file's tests sent, nothing reached the upstream outside a route target.
      for (const r of up?.log ?? []) expect(r.url).toMatch(UPSTREAM_TARGETS);
    } finally {
      await stack?.stop();
      await up?.stop();
    }
  });

  const keyCount = async (pattern: string) => (await stack.redis.client.keys(pattern)).length;

  /**
   * Healthz answers, no session appeared or vanished, and pending logins grew by at most `startedLogins`
   * (the 302s to the IdP; fewer when a browser's oldest attempts were evicted).
   */
  async function checkBatch(
    before: { sessions: number; logins: number },
    startedLogins: number,
  ): Promise<void> {
    const health = await client.send(rawRequest('GET', '/healthz', host, []));
    expect(health === 'closed' ? 'closed' : health.status).toBe(200);
    expect(await keyCount('bff:*:session')).toBe(before.sessions);
    const logins = await keyCount('bff:*:login:*');
    if (startedLogins === 0) expect(logins).toBe(before.logins);
    else expect(logins - before.logins).toBeLessThanOrEqual(startedLogins);
    for (const u of users)
      expect(await stack.redis.client.exists(stack.parts.keys.session(u.who.sid))).toBe(1);
  }

  async function snapshot(): Promise<{ sessions: number; logins: number }> {
    return { sessions: await keyCount('bff:*:session'), logins: await keyCount('bff:*:login:*') };
  }

  /** Runs `property` as a batch: counts cases, checks health and store keys afterwards. */
  async function runBatch(
    name: string,
    numRuns: number,
    property: fc.IAsyncProperty<[unknown]> | fc.IAsyncPropertyWithHooks<[unknown]>,
    createdLogins: () => number = () => 0,
  ): Promise<void> {
    const before = await snapshot();
    const startedAt = ran[name] ?? 0;
    await fc.assert(property, { numRuns });
    expect((ran[name] ?? 0) - startedAt).toBeGreaterThanOrEqual(numRuns);
    await checkBatch(before, createdLogins());
  }

  const count = (name: string) => {
    ran[name] = (ran[name] ?? 0) + 1;
  };

  /** What the upstream logged for this one browser request (at most one entry may exist). */
  function upstreamSaw(from: number, what: string): LoggedRequest | undefined {
    const seen = up.log.slice(from);
    if (seen.length > 1) throw new Error(`${seen.length} upstream requests for one browser request: ${what}`);
    return seen[0];
  }

  /** The bearer a forwarded request must carry on `route` for the session user `u` (undefined: none). */
  function expectedBearer(route: RouteModel, u: CorpusUser | undefined): string | undefined {
    return route.token === 'none' ? undefined : u?.token;
  }

  function checkForwardedHeaders(entry: LoggedRequest, route: RouteModel, u: CorpusUser | undefined): void {
    const h = entry.headers;
    if (route.token === 'client') {
      expect(entry.bearer).toBeDefined();
      expect(users.map((x) => x.token)).not.toContain(entry.bearer);
    } else {
      expect(entry.bearer).toBe(expectedBearer(route, u));
      if (expectedBearer(route, u) === undefined) expect(h.authorization).toBeUndefined();
    }
    expect(h['x-csrf']).toBeUndefined();
    expect(h.forwarded).toBeUndefined();
    expect(h['x-forwarded-host']).toBe(host);
    expect(h['x-forwarded-for']).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h.cookie ?? '').not.toMatch(/(^|;\s*)bff-(session|login)=/);
    for (const name of [
      'keep-alive',
      'proxy-connection',
      'proxy-authorization',
      'te',
      'trailer',
      'upgrade',
      'x-http-method-override',
      'x-http-method',
      'x-method-override',
      'x-original-url',
      'x-rewrite-url',
      'x-real-ip',
      'true-client-ip',
      'x-client-ip',
      'cf-connecting-ip',
      'fastly-client-ip',
    ])
      expect(h[name], name).toBeUndefined();
    for (const v of Object.values(h)) expect(String(v)).not.toMatch(/[\r\n\0]/);
  }

  return {
    get up() {
      return up;
    },
    get stack() {
      return stack;
    },
    get users() {
      return users;
    },
    get host() {
      return host;
    },
    get client() {
      return client;
    },
    get routes() {
      return routes;
    },
    get secrets() {
      return secrets;
    },
    outcomes,
    runBatch,
    count,
    upstreamSaw,
    expectedBearer,
    checkForwardedHeaders,
  };
}
