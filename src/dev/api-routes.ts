/**
 * The demo APIs' endpoints: the orders API (GET /orders needs api:read, POST /orders api:write) and the
 * billing API (GET /invoices needs api:read). Both answer GET /token (api:read): which token this API
 * received (its claims and scheme, never the token itself), so the demo shows that each API gets its own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWTPayload } from 'jose';

/** What the API knows about the request's token once verified. */
export interface Received {
  claims: JWTPayload;
  scheme: 'Bearer' | 'DPoP';
}

type Handler = (token: Received, req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface Endpoint {
  scope: string;
  handle: Handler;
}

export type DemoApiName = 'orders' | 'billing';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly challenge?: string,
  ) {
    super(String(body.message ?? body.error));
  }
}

export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage, maxBody: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBody) throw new HttpError(413, { error: 'too_large', message: `at most ${maxBody} bytes` });
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    /* answered below */
  }
  throw new HttpError(400, { error: 'invalid_request', message: 'the body must be a JSON object' });
}

interface Order {
  id: number;
  item: string;
  quantity: number;
  placedAt: string;
}

/** The token as this API saw it: the demo page shows one line per API. */
function tokenSeen(api: DemoApiName, token: Received): Record<string, unknown> {
  const { aud, sub, scope, jti, exp, cnf } = token.claims as JWTPayload & {
    scope?: string;
    cnf?: { jkt?: string };
  };
  return { api, scheme: token.scheme, aud, sub, scope, jti, exp, jkt: cnf?.jkt };
}

function ordersEndpoints(maxBody: number): Record<string, Endpoint> {
  const orders = new Map<string, Order[]>();
  const ordersOf = (sub: string): Order[] => {
    let list = orders.get(sub);
    if (!list) {
      list = [
        {
          id: 1,
          item: 'Earl Grey tea',
          quantity: 2,
          placedAt: new Date(Date.now() - 86_400_000).toISOString(),
        },
        { id: 2, item: 'Jam tarts', quantity: 12, placedAt: new Date(Date.now() - 3_600_000).toISOString() },
      ];
      orders.set(sub, list);
    }
    return list;
  };
  return {
    'GET /orders': {
      scope: 'api:read',
      handle: (token, _req, res) =>
        send(res, 200, {
          orders: ordersOf(String(token.claims.sub)),
          claims: token.claims,
          token: tokenSeen('orders', token),
        }),
    },
    'POST /orders': {
      scope: 'api:write',
      handle: async (token, req, res) => {
        const body = await readJson(req, maxBody);
        const item =
          typeof body.item === 'string' && body.item.trim() !== '' ? body.item.trim().slice(0, 80) : 'Tea';
        const list = ordersOf(String(token.claims.sub));
        const order: Order = {
          id: list.reduce((max, o) => Math.max(max, o.id), 0) + 1,
          item,
          quantity: 1,
          placedAt: new Date().toISOString(),
        };
        list.push(order);
        send(res, 201, { order, claims: token.claims, token: tokenSeen('orders', token) });
      },
    },
  };
}

function billingEndpoints(): Record<string, Endpoint> {
  return {
    'GET /invoices': {
      scope: 'api:read',
      handle: (token, _req, res) =>
        send(res, 200, {
          invoices: [
            { id: 'INV-1', amount: '12.50 EUR', due: new Date(Date.now() + 7 * 86_400_000).toISOString() },
          ],
          token: tokenSeen('billing', token),
        }),
    },
  };
}

export function endpointsFor(api: DemoApiName, maxBody: number): Record<string, Endpoint> {
  const own = api === 'orders' ? ordersEndpoints(maxBody) : billingEndpoints();
  return {
    ...own,
    'GET /token': { scope: 'api:read', handle: (token, _req, res) => send(res, 200, tokenSeen(api, token)) },
  };
}
