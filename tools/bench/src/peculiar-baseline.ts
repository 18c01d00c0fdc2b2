// The baseline the issue compares against: a P-256 server-key leaf built with @peculiar/x509 1.9
// on WebCrypto, with the same extensions and the private key exported as PKCS#8 PEM like ours.
import { webcrypto } from 'node:crypto';
import * as px509 from '@peculiar/x509';

const { subtle } = webcrypto;
const EC_PARAMS = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** The DOM `Crypto` type @peculiar/x509 expects; node's webcrypto implements it at runtime. */
type PeculiarCrypto = Parameters<typeof px509.cryptoProvider.set>[1];

export interface PeculiarIssuer {
  readonly certificate: px509.X509Certificate;
  readonly privateKey: webcrypto.CryptoKey;
}

/** Imports our issuer (PEM cert + PKCS#8 PEM key) into WebCrypto once, outside the timed loop. */
export async function peculiarIssuer(certificatePem: string, privateKeyPem: string): Promise<PeculiarIssuer> {
  px509.cryptoProvider.set(webcrypto as unknown as PeculiarCrypto);
  const body = privateKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const privateKey = await subtle.importKey('pkcs8', Buffer.from(body, 'base64'), EC_PARAMS, false, ['sign']);
  return { certificate: new px509.X509Certificate(certificatePem), privateKey };
}

export async function peculiarServerKeyLeaf(issuer: PeculiarIssuer, commonName: string, validityMs: number): Promise<string> {
  const keys = await subtle.generateKey(EC_PARAMS, true, ['sign', 'verify']);
  const now = Date.now();
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const cert = await px509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: `CN=${commonName}`,
    issuer: issuer.certificate.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + validityMs),
    signingAlgorithm: SIGNING,
    publicKey: keys.publicKey,
    signingKey: issuer.privateKey,
    extensions: [
      new px509.KeyUsagesExtension(px509.KeyUsageFlags.digitalSignature | px509.KeyUsageFlags.keyEncipherment, true),
      new px509.ExtendedKeyUsageExtension([px509.ExtendedKeyUsage.serverAuth, px509.ExtendedKeyUsage.clientAuth]),
      new px509.BasicConstraintsExtension(false, undefined, true),
      await px509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await px509.AuthorityKeyIdentifierExtension.create(issuer.certificate),
      new px509.SubjectAlternativeNameExtension([{ type: 'dns', value: commonName }]),
    ],
  });
  const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return cert.toString('pem') + `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n`;
}
