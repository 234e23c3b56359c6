/** The demo's freePort (src/dev/ports.ts), on 127.0.0.1 unless a host is given. */
export { freePort } from '../../src/dev/ports.js';
