/**
 * Bench variant (b): bare Express 5 + http-proxy-middleware 3 with a keep-alive agent, adding a
 * fixed bearer token. No session, no logging, no security work: the floor for an Express proxy.
 *
 *   UPSTREAM_URL=http://127.0.0.1:PORT   /api/* -> upstream /*
 */
import { createServer, type IncomingMessage } from 'node:http';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { upstreamAgent } from './proxy-agent.js';
import { listenAndAnnounce, requiredEnv } from './ready.js';

const FIXED_TOKEN = 'bench-fixed-token-0123456789abcdefghijklmnopqrstuvwxyz';

const app = express();
app.use(
  '/api',
  createProxyMiddleware<IncomingMessage>({
    target: requiredEnv('UPSTREAM_URL'),
    agent: upstreamAgent,
    on: {
      proxyReq: (proxyReq) => {
        proxyReq.setHeader('authorization', `Bearer ${FIXED_TOKEN}`);
      },
    },
  }),
);

await listenAndAnnounce(createServer(app));
