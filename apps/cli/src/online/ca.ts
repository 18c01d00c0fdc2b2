// fsm-certs ca show | ca dates: the live trust bundle (GET /v1/ca), every root in it, printed
// exactly as `openssl x509 -noout -text -fingerprint -sha256` / `openssl x509 -noout -dates` print them.
import { formatInspection, inspectCertificate, isX509Error, splitPemBundle } from '@fsm-certs/x509';
import type { CertificateInfo } from '@fsm-certs/x509';
import type { Gateway } from './gateway.js';

export class TrustBundleError extends Error {
  override readonly name = 'TrustBundleError';
  readonly code = 'BAD_TRUST_BUNDLE';
  readonly httpStatus = 502;
  readonly retryable = false;
}

/** The roots the gateway serves, parsed; a bundle we cannot read is the gateway's fault. */
export async function fetchRoots(gateway: Gateway): Promise<CertificateInfo[]> {
  const pem = await gateway.call((client) => client.trustBundlePem());
  const blocks = splitPemBundle(pem);
  if (blocks.length === 0) {
    throw new TrustBundleError(`GET ${gateway.connection.server}/v1/ca returned no certificate; check the ca-service log`);
  }
  try {
    return blocks.map((block) => inspectCertificate(block));
  } catch (error) {
    if (isX509Error(error)) throw new TrustBundleError(`the trust bundle from ${gateway.connection.server} does not parse: ${error.message}`, { cause: error });
    throw error;
  }
}

export async function caShow(gateway: Gateway, options: { dates: boolean; json: boolean }, print: (text: string) => void): Promise<void> {
  const roots = await fetchRoots(gateway);
  if (options.json) {
    const shown = options.dates ? roots.map((r) => ({ notBefore: r.notBefore, notAfter: r.notAfter })) : roots;
    print(`${JSON.stringify(shown, null, 2)}\n`);
    return;
  }
  print(roots.map((info) => formatInspection(info, { dates: options.dates })).join('\n'));
}
