/**
 * Bench variant (c): what a developer would hand-build from the tutorials. express-session with
 * connect-redis on ioredis (resave false, saveUninitialized false, default touch: one GET and one
 * EXPIRE per request), a token kept in the session, and http-proxy-middleware attaching it.
 *
 *   UPSTREAM_URL, REDIS_URL
 *   GET /login  -> a session holding a token (the bench calls it once for a cookie)
 *   /api/*      -> upstream /* with `Authorization: Bearer <the session's token>`; 401 without one
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { RedisStore } from 'connect-redis';
import express, { type Request } from 'express';
import session from 'express-session';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { Redis } from 'ioredis';
import { upstreamAgent } from './proxy-agent.js';
import { listenAndAnnounce, requiredEnv } from './ready.js';

declare module 'express-session' {
  interface SessionData {
    token?: string;
  }
}

const redis = new Redis(requiredEnv('REDIS_URL'));

const app = express();
app.use(
  session({
    store: new RedisStore({ client: redis, prefix: 'bench-hand-built:' }),
    secret: 'bench-hand-built-session-secret-0123456789',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'strict', maxAge: 30 * 60_000 },
  }),
);

app.get('/login', (req, res, next) => {
  req.session.token = randomBytes(32).toString('base64url');
  req.session.save((err) => (err ? next(err) : res.json({ ok: true })));
});

app.use(
  '/api',
  (req, res, next) => {
    if (req.session.token) next();
    else res.status(401).json({ error: 'unauthenticated' });
  },
  createProxyMiddleware<Request>({
    target: requiredEnv('UPSTREAM_URL'),
    agent: upstreamAgent,
    on: {
      proxyReq: (proxyReq, req) => {
        proxyReq.setHeader('authorization', `Bearer ${req.session.token ?? ''}`);
      },
    },
  }),
);

await listenAndAnnounce(createServer(app), async () => {
  await redis.quit();
});
