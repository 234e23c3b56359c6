/**
 * The demo IdP alone, configured by env (docker-compose.yml runs this):
 *
 *   DEMO_HOST                    address to bind                          127.0.0.1
 *   DEMO_IDP_PORT                port                                     3001
 *   DEMO_IDP_ISSUER              issuer URL the browser and gateway use   http://127.0.0.1:<port>
 *   DEMO_GATEWAY_URL             the gateway's public origin              http://localhost:3000
 *   DEMO_BACKCHANNEL_LOGOUT_URI  where logout tokens are POSTed           <gateway>/auth/backchannel-logout
 *   DEMO_CLIENT_ID / DEMO_CLIENT_SECRET  the gateway's client             bff-demo / bff-demo-client-secret
 *   DEMO_API_AUDIENCE            the demo API's resource indicator        urn:bff-demo:api
 *   DEMO_ACCESS_TOKEN_TTL        access-token lifetime, seconds           60
 */
import { startDevIdp } from './idp-demo.js';
import { createLog } from './log.js';
import { DEMO_DEFAULTS, portFrom, secondsFrom, stringFrom, urlFrom } from './settings.js';
import { runStandalone } from './standalone.js';

const log = createLog('idp');
await runStandalone(log, async () => {
  const env = process.env;
  const host = stringFrom(env, 'DEMO_HOST', DEMO_DEFAULTS.host);
  const port = portFrom(env, 'DEMO_IDP_PORT', DEMO_DEFAULTS.idpPort);
  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const gatewayUrl = urlFrom(env, 'DEMO_GATEWAY_URL', `http://localhost:${DEMO_DEFAULTS.gatewayPort}`);
  const idp = await startDevIdp({
    host,
    port,
    issuer: urlFrom(env, 'DEMO_IDP_ISSUER', `http://${publicHost}:${port}`),
    clientId: stringFrom(env, 'DEMO_CLIENT_ID', DEMO_DEFAULTS.clientId),
    clientSecret: stringFrom(env, 'DEMO_CLIENT_SECRET', DEMO_DEFAULTS.clientSecret),
    gatewayUrl,
    backchannelLogoutUri: urlFrom(
      env,
      'DEMO_BACKCHANNEL_LOGOUT_URI',
      `${gatewayUrl}/auth/backchannel-logout`,
    ),
    apiAudience: stringFrom(env, 'DEMO_API_AUDIENCE', DEMO_DEFAULTS.apiAudience),
    accessTokenTtl: secondsFrom(env, 'DEMO_ACCESS_TOKEN_TTL', DEMO_DEFAULTS.accessTokenTtl),
    log,
  });
  log.info('demo IdP listening', { issuer: idp.issuer, bind: `${host}:${idp.port}` });
  return idp;
});
