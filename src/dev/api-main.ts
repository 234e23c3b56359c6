/**
 * The demo API alone, configured by env (docker-compose.yml runs this):
 *
 *   DEMO_HOST          address to bind                     127.0.0.1
 *   DEMO_API_PORT      port                                3002
 *   DEMO_IDP_ISSUER    the issuer its tokens must carry    http://127.0.0.1:3001
 *   DEMO_API_AUDIENCE  the audience its tokens must carry  urn:bff-demo:api
 */
import { startDemoApi } from './api.js';
import { createLog } from './log.js';
import { DEMO_DEFAULTS, portFrom, stringFrom, urlFrom } from './settings.js';
import { runStandalone } from './standalone.js';

const log = createLog('api');
await runStandalone(log, async () => {
  const env = process.env;
  const host = stringFrom(env, 'DEMO_HOST', DEMO_DEFAULTS.host);
  const api = await startDemoApi({
    host,
    port: portFrom(env, 'DEMO_API_PORT', DEMO_DEFAULTS.apiPort),
    issuer: urlFrom(env, 'DEMO_IDP_ISSUER', `http://127.0.0.1:${DEMO_DEFAULTS.idpPort}`),
    audience: stringFrom(env, 'DEMO_API_AUDIENCE', DEMO_DEFAULTS.apiAudience),
    log,
  });
  log.info('demo API listening', { url: api.url });
  return api;
});
