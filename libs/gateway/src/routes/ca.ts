// GET /v1/ca: the trust bundle the ca-service wrote into the inventory. PEM by default (what
// `curl > ca.crt` wants), JSON when the caller asks for it. Public: CA certificates are not secret.
import type { Express } from 'express';
import { GatewayError } from '../errors.js';
import type { GatewayDeps } from '../deps.js';
import { trustBundlePem, trustBundleResponse } from '../responses.js';

export function registerCaRoute(app: Express, deps: GatewayDeps): void {
  app.get('/v1/ca', async (req, res) => {
    const type = req.accepts(['application/x-pem-file', 'application/json', 'text/plain']);
    if (type === false) throw new GatewayError('NOT_ACCEPTABLE', 'GET /v1/ca serves application/x-pem-file or application/json.');
    const bundle = await deps.inventory.getTrustBundle();
    if (bundle === undefined) {
      throw new GatewayError('BACKEND_UNAVAILABLE', 'No trust bundle yet: the ca-service has not started; retry shortly.', {
        retryAfterSeconds: deps.options.retryAfterSeconds ?? 2,
      });
    }
    res.vary('Accept');
    if (type === 'application/json') res.json(trustBundleResponse(bundle));
    else res.type(type).send(trustBundlePem(bundle));
  });
}
