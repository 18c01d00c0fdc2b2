// Vault hands out server-generated keys as SEC1 (EC) or PKCS#1 (RSA) PEM; we hand out PKCS#8 like
// every other provider. The conversion is a DER wrapping — PrivateKeyInfo { version 0,
// AlgorithmIdentifier, OCTET STRING <the key Vault sent> } — done on the bytes: importing the key
// into node:crypto and exporting it again was the ca-service's largest CPU cost per certificate.
import { ProviderError } from '../errors.js';

// AlgorithmIdentifier { id-ecPublicKey, prime256v1 } and { rsaEncryption, NULL }.
const EC_P256_ALGORITHM = Buffer.from('301306072a8648ce3d020106082a8648ce3d030107', 'hex');
const RSA_ALGORITHM = Buffer.from('300d06092a864886f70d0101010500', 'hex');
const P256_OID = Buffer.from('06082a8648ce3d030107', 'hex');
const VERSION_0 = Buffer.from('020100', 'hex');

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

const PEM = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/;

/** The PKCS#8 PEM of a SEC1 (P-256) or PKCS#1 key PEM; a PKCS#8 PEM is returned as it is. */
export function toPkcs8Pem(pem: string): string {
  const match = PEM.exec(pem);
  const label = match?.[1];
  const base64 = match?.[2]?.replace(/\s+/g, '');
  if (label === undefined || base64 === undefined) throw new ProviderError('ISSUANCE_FAILED', 'Vault returned a private key that is not PEM: check the Vault version.');
  if (label === 'PRIVATE KEY') return `${pem.trim()}\n`;
  const der = Buffer.from(base64, 'base64');
  let algorithm: Buffer;
  if (label === 'EC PRIVATE KEY') {
    // The curve is named inside the SEC1 key; only P-256 is ours.
    if (!der.includes(P256_OID)) throw new ProviderError('ISSUANCE_FAILED', 'Vault returned an EC key on a curve other than P-256: set key_bits=256 on the Vault role.');
    algorithm = EC_P256_ALGORITHM;
  } else if (label === 'RSA PRIVATE KEY') {
    algorithm = RSA_ALGORITHM;
  } else {
    throw new ProviderError('ISSUANCE_FAILED', `Vault returned a "${label}" private key: fsm-certs serves EC P-256 and RSA keys.`);
  }
  const info = tlv(0x30, Buffer.concat([VERSION_0, algorithm, tlv(0x04, der)]));
  const lines = info.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}
