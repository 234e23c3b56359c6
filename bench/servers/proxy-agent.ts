/** The upstream connection pool of the Express baselines (b) and (c): keep-alive, as a developer would set it. */
import http from 'node:http';

export const upstreamAgent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
