// SubjectPublicKeyInfo and PKCS#8 by hand for P-256: KeyObject.export() is a slow path (~170 µs,
// DESIGN §7), while these layouts are fixed. Other keys go through node and are cached per KeyObject.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { children, content, DerError, expectTag, readRoot } from './der/reader.js';
import { X509Error } from './errors.js';

/** SEQUENCE { AlgorithmIdentifier { id-ecPublicKey, prime256v1 }, BIT STRING (0 unused bits) ... }. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
/** PKCS#8 { v0, id-ecPublicKey/prime256v1, OCTET STRING { ECPrivateKey v1, 32-byte scalar, [1] public point } }. */
const P256_PKCS8_HEAD = Buffer.from('308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420', 'hex');
const P256_PKCS8_MID = Buffer.from('a144034200', 'hex');

export function p256SpkiFromPoint(point: Buffer): Buffer {
  return Buffer.concat([P256_SPKI_PREFIX, point], P256_SPKI_PREFIX.length + point.length);
}

/** ECDH.getPrivateKey() drops leading zero bytes; ECPrivateKey wants exactly 32. */
export function p256Pkcs8FromScalar(scalar: Buffer, point: Buffer): Buffer {
  const padded = scalar.length === 32 ? scalar : Buffer.concat([Buffer.alloc(32 - scalar.length), scalar]);
  return Buffer.concat([P256_PKCS8_HEAD, padded, P256_PKCS8_MID, point]);
}

const spkiCache = new WeakMap<KeyObject, Buffer>();

/** Lets parseCsr hand the CSR's SPKI bytes to issueLeaf without an export round trip. */
export function rememberSpki(key: KeyObject, spkiDer: Buffer): void {
  spkiCache.set(key, spkiDer);
}

export function spkiDerOf(publicKey: KeyObject): Buffer {
  const cached = spkiCache.get(publicKey);
  if (cached !== undefined) return cached;
  const key = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  if (key.type !== 'public') throw new X509Error('UNSUPPORTED_KEY', 'expected an asymmetric public key');
  const der = key.export({ type: 'spki', format: 'der' });
  spkiCache.set(publicKey, der);
  return der;
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING value. */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  let bits: Buffer;
  if (spkiDer.length === 91 && spkiDer.subarray(0, 26).equals(P256_SPKI_PREFIX)) {
    bits = spkiDer.subarray(26);
  } else {
    try {
      const root = readRoot(spkiDer);
      const [, bitString] = children(spkiDer, root);
      bits = content(spkiDer, expectTag(bitString, 0x03, 'subjectPublicKey')).subarray(1);
    } catch (cause) {
      if (cause instanceof DerError) throw new X509Error('UNSUPPORTED_KEY', `malformed public key: ${cause.message}`, { cause });
      throw cause;
    }
  }
  return createHash('sha1').update(bits).digest();
}
