/**
 * Bench variant (a) and the upstream of every other variant: a node:http server answering every
 * request with the same ~300-byte JSON document, keep-alive. Run by the bench as its own process.
 */
import { createServer } from 'node:http';
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

const server = createServer((req, res) => {
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
