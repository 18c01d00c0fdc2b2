import { createPrivateKey, createPublicKey, generateKeyPair as generateKeyPairCallback, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { DEFAULT_KEY_ALGORITHM, KEY_ALGORITHMS, RSA_PUBLIC_EXPONENT, rsaModulusBits, type KeyAlgorithm } from '@fsm-certs/core';
import { z } from 'zod';
import { X509Error } from './errors.js';
import type { KeyPair } from './types.js';

export const keyAlgorithmSchema = z.enum(KEY_ALGORITHMS);

function parseAlgorithm(algorithm: unknown): KeyAlgorithm {
  const parsed = keyAlgorithmSchema.safeParse(algorithm);
  if (!parsed.success) {
    throw new X509Error('UNSUPPORTED_KEY', `unsupported key algorithm ${JSON.stringify(algorithm)}; use one of ${KEY_ALGORITHMS.join(', ')}`);
  }
  return parsed.data;
}

export function generateKeyPair(algorithm: KeyAlgorithm = DEFAULT_KEY_ALGORITHM): KeyPair {
  const alg = parseAlgorithm(algorithm);
  const bits = rsaModulusBits(alg);
  const { privateKey, publicKey } =
    bits === undefined
      ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      : generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: RSA_PUBLIC_EXPONENT });
  return { algorithm: alg, privateKey, publicKey };
}

/**
 * As generateKeyPair, on libuv's thread pool instead of the event loop. An RSA key costs 50 ms of
 * CPU on an idle core and seconds on a busy one; generated inline it would hold up every timer of
 * the process meanwhile (a job lock's renewal, a heartbeat), and the lock would be lost mid-job.
 */
export function generateKeyPairOffThread(algorithm: KeyAlgorithm = DEFAULT_KEY_ALGORITHM): Promise<KeyPair> {
  const alg = parseAlgorithm(algorithm);
  const bits = rsaModulusBits(alg);
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, publicKey: KeyObject, privateKey: KeyObject): void => {
      if (error === null) resolve({ algorithm: alg, privateKey, publicKey });
      else reject(new X509Error('UNSUPPORTED_KEY', `generating a ${alg} key failed: ${error.message}`, { cause: error, httpStatus: 500 }));
    };
    if (bits === undefined) generateKeyPairCallback('ec', { namedCurve: 'prime256v1' }, done);
    else generateKeyPairCallback('rsa', { modulusLength: bits, publicExponent: RSA_PUBLIC_EXPONENT }, done);
  });
}

/** Which of our algorithms a key (public or private) is; anything else is UNSUPPORTED_KEY. */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ec' && details.namedCurve === 'prime256v1') return 'ecdsa-p256';
  if (type === 'rsa') {
    // A small exponent such as 3 invites the low-exponent attacks on PKCS#1 v1.5; every mainstream
    // toolkit uses F4, so anything else is refused rather than certified.
    if (details.publicExponent !== BigInt(RSA_PUBLIC_EXPONENT)) {
      throw new X509Error(
        'UNSUPPORTED_KEY',
        `unsupported RSA key: public exponent ${details.publicExponent ?? '?'}; generate the key with the exponent ${RSA_PUBLIC_EXPONENT} (openssl's default)`,
      );
    }
    const alg = KEY_ALGORITHMS.find((a) => rsaModulusBits(a) === details.modulusLength);
    if (alg !== undefined) return alg;
  }
  const described = type === 'ec' ? `EC ${details.namedCurve ?? 'unknown curve'}` : type === 'rsa' ? `RSA ${details.modulusLength ?? '?'} bits` : (type ?? key.type);
  throw new X509Error('UNSUPPORTED_KEY', `unsupported key (${described}); use ECDSA P-256 or RSA 2048/3072/4096`);
}

/** PKCS#8 PEM ("BEGIN PRIVATE KEY"), unencrypted: the shape of the CA secret's private.key. */
export function exportPrivateKeyPem(key: KeyObject): string {
  if (key.type !== 'private') throw new X509Error('UNSUPPORTED_KEY', 'exportPrivateKeyPem needs a private key, got a public key');
  keyAlgorithmOf(key);
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** PKCS#8 DER of a private key: what exportPrivateKeyPem's PEM encodes. */
export function exportPrivateKeyDer(key: KeyObject): Buffer {
  if (key.type !== 'private') throw new X509Error('UNSUPPORTED_KEY', 'exportPrivateKeyDer needs a private key, got a public key');
  keyAlgorithmOf(key);
  return key.export({ type: 'pkcs8', format: 'der' });
}

/** Accepts PKCS#8, SEC1 ("EC PRIVATE KEY") and PKCS#1 ("RSA PRIVATE KEY") PEM. */
export function importPrivateKeyPem(pem: string): KeyPair {
  if (typeof pem !== 'string' || !/-----BEGIN ((RSA |EC )?PRIVATE KEY)-----/.test(pem)) {
    throw new X509Error('INVALID_PEM', 'no "-----BEGIN PRIVATE KEY-----" (or EC/RSA PRIVATE KEY) block found; provide an unencrypted PEM private key');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new X509Error('INVALID_PEM', 'the private key PEM cannot be parsed; it may be truncated, corrupted or encrypted', { cause });
  }
  const algorithm = keyAlgorithmOf(privateKey);
  return { algorithm, privateKey, publicKey: createPublicKey(privateKey) };
}
