// The issuer's key type decides the signature algorithm; the subject's key type does not matter.
import { sign, type KeyObject } from 'node:crypto';
import { keyFamilyOf, type KeyAlgorithm } from '@fsm-certs/core';
import { OID } from './der/oids.js';
import { DER_NULL, encodeOid, sequence } from './der/writer.js';

const ECDSA_SHA256 = sequence([encodeOid(OID.ecdsaWithSha256)]);
/** RSA AlgorithmIdentifiers carry an explicit NULL parameter (RFC 4055 §5). */
const RSA_SHA256 = sequence([encodeOid(OID.sha256WithRsa), DER_NULL]);

export function signatureAlgorithmFor(keyAlgorithm: KeyAlgorithm): Buffer {
  return keyFamilyOf(keyAlgorithm) === 'ec' ? ECDSA_SHA256 : RSA_SHA256;
}

/** ECDSA signatures come out DER-encoded (r, s), which is what X.509 wants; RSA is PKCS#1 v1.5. */
export function signTbs(tbs: Buffer, privateKey: KeyObject): Buffer {
  return sign('sha256', tbs, privateKey);
}
