import { OID } from './oids.js';
import { encodeOid, sequence, set, utf8String } from './writer.js';

const CN_OID = encodeOid(OID.commonName);
const O_OID = encodeOid(OID.organization);

/** Name DER in Go's pkix order (O before CN); UTF8String as RFC 5280 recommends. */
export function encodeName(parts: { readonly commonName?: string; readonly organization?: string }): Buffer {
  const rdns: Buffer[] = [];
  if (parts.organization !== undefined) rdns.push(set([sequence([O_OID, utf8String(parts.organization)])]));
  if (parts.commonName !== undefined) rdns.push(set([sequence([CN_OID, utf8String(parts.commonName)])]));
  return sequence(rdns);
}
