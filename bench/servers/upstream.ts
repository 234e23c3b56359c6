/**
 * Bench variant (a) and the upstream of every other variant: a node:http server answering every
 * request with the same ~300-byte JSON document, keep-alive. Run by the bench as its own process.
 * One exception, outside the load: `…/bench-probe` answers what credentials it received (the scheme, a
 * DPoP proof or not, the token's `aud` unverified), so the bench can check (e) and (f) before measuring.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { listenAndAnnounce } from './ready.js';

const BODY = Buffer.from(
  JSON.stringify({
    orders: [
      { id: 'ord-1001', item: 'Blue widget', quantity: 2, price: 19.99, status: 'shipped' },
      { id: 'ord-1002', item: 'Red gadget', quantity: 1, price: 49.5, status: 'processing' },
      { id: 'ord-1003', item: 'Green gizmo', quantity: 5, price: 4.25, status: 'delivered' },
    ],
    page: 1,
    total: 3,
  }),
);
const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

/** The Authorization scheme, whether a DPoP proof came, and the JWT's `aud` (read, not verified). */
function probe(headers: IncomingHttpHeaders): Buffer {
  const [scheme, token] = (headers.authorization ?? '').split(' ');
  let aud: unknown;
  try {
    aud = (
      JSON.parse(Buffer.from(token?.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud?: unknown }
    ).aud;
  } catch {
    aud = undefined; // an opaque token
  }
  return Buffer.from(JSON.stringify({ scheme, proof: typeof headers.dpop === 'string', aud }));
}

const server = createServer((req, res) => {
  if (req.url?.endsWith('/bench-probe')) {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(probe(req.headers));
  }
  const send = (): void => {
    res.writeHead(200, HEADERS);
    res.end(BODY);
  };
  if (req.complete) send();
  else req.resume().once('end', send);
});
// Longer than any proxy's idle pool timeout, so the upstream never closes a socket a proxy is about to reuse.
server.keepAliveTimeout = 65_000;

await listenAndAnnounce(server);
