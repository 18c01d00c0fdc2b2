// SubjectPublicKeyInfo and PKCS#8 by hand for P-256: KeyObject.export() is a slow path (~170 µs,
// docs/adr/0001-der-writer.md), while these layouts are fixed. Other keys go through node and are cached per KeyObject.
import { createPublicKey, hash, type JsonWebKey, type KeyObject } from 'node:crypto';
import { children, content, decodeOid, DerError, expectTag, readRoot, unsignedIntegerBytes } from './der/reader.js';
import { OID } from './der/oids.js';
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

/** Lets parseCsr hand the CSR's SPKI bytes to issueLeaf without an export round trip. */
const spkiCache = new WeakMap<KeyObject, Buffer>();

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
  return hash('sha1', bits, 'buffer');
}

function jwkFromSpki(spkiDer: Buffer): JsonWebKey | undefined {
  const root = readRoot(spkiDer);
  const [algorithm, bitString] = children(spkiDer, expectTag(root, 0x30, 'SubjectPublicKeyInfo'));
  const [oidNode, params] = children(spkiDer, expectTag(algorithm, 0x30, 'AlgorithmIdentifier'));
  const oid = decodeOid(content(spkiDer, expectTag(oidNode, 0x06, 'algorithm')));
  const bits = content(spkiDer, expectTag(bitString, 0x03, 'subjectPublicKey'));
  if (bits[0] !== 0) throw new DerError('subjectPublicKey has unused bits');
  const key = bits.subarray(1);
  if (oid === OID.ecPublicKey && params?.tag === 0x06 && decodeOid(content(spkiDer, params)) === OID.prime256v1) {
    if (key.length !== 65 || key[0] !== 0x04) return undefined; // compressed point: let OpenSSL decode it
    return { kty: 'EC', crv: 'P-256', x: key.subarray(1, 33).toString('base64url'), y: key.subarray(33).toString('base64url') };
  }
  if (oid === OID.rsaEncryption) {
    const [n, e] = children(key, expectTag(readRoot(key), 0x30, 'RSAPublicKey'));
    return {
      kty: 'RSA',
      n: unsignedIntegerBytes(content(key, expectTag(n, 0x02, 'modulus')), 'modulus').toString('base64url'),
      e: unsignedIntegerBytes(content(key, expectTag(e, 0x02, 'exponent')), 'exponent').toString('base64url'),
    };
  }
  return undefined;
}

/**
 * A public KeyObject from SPKI DER. P-256 and RSA keys go through JWK import, which skips
 * OpenSSL 3's generic decoder (2-8x faster, and it still validates the key); anything else
 * is decoded by OpenSSL. Throws DerError or node's error on malformed input.
 */
export function publicKeyFromSpki(spkiDer: Buffer): KeyObject {
  const jwk = jwkFromSpki(spkiDer);
  const key = jwk === undefined
    ? createPublicKey({ key: spkiDer, format: 'der', type: 'spki' })
    : createPublicKey({ key: jwk, format: 'jwk' });
  spkiCache.set(key, spkiDer);
  return key;
}
