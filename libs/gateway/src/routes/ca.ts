// GET /v1/ca: the trust bundle the ca-service wrote into the inventory. PEM by default (what
// `curl > ca.crt` wants), JSON when the caller asks for it. Public: CA certificates are not secret.
import type { RequestHandler } from 'express';
import { GatewayError } from '../errors.js';
import type { GatewayDeps } from '../deps.js';
import { trustBundlePem, trustBundleResponse } from '../responses.js';
import type { OperationHandlers } from './table.js';

export function caHandlers(deps: GatewayDeps): Pick<OperationHandlers, 'getTrustBundle'> {
  const getTrustBundle: RequestHandler = async (req, res) => {
    const type = req.accepts(['application/x-pem-file', 'application/json', 'text/plain']);
    if (type === false) throw new GatewayError('NOT_ACCEPTABLE', 'GET /v1/ca serves application/x-pem-file, text/plain or application/json.');
    const bundle = await deps.inventory.getTrustBundle();
    if (bundle === undefined) {
      throw new GatewayError('BACKEND_UNAVAILABLE', 'No trust bundle yet: the ca-service has not started; retry shortly.', {
        retryAfterSeconds: deps.options.retryAfterSeconds ?? 2,
      });
    }
    res.vary('Accept');
    if (type === 'application/json') res.json(trustBundleResponse(bundle));
    else res.type(type).send(trustBundlePem(bundle));
  };
  return { getTrustBundle };
}
