// Seals server-generated private keys before they reach Redis (inventory records, job results).
// AES-256-GCM under a 32-byte key-encryption key; the AAD binds a blob to its (commonName,
// serial) so a ciphertext copied onto another record fails to open. Format, all base64url:
//   v1.<iv 12 bytes>.<tag 16 bytes>.<ciphertext>
import { createCipheriv, createDecipheriv, randomBytes, type KeyObject, createSecretKey } from 'node:crypto';
import { pooledRandomBytes } from '@fsm-certs/x509';
import { QueueError } from '../errors.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A parsed KEK. Wraps a KeyObject so the raw bytes are not passed around or printed by accident. */
export interface KeyEncryptionKey {
  readonly key: KeyObject;
}

/**
 * Parses a KEK from config: 32 bytes as base64 / base64url (44 or 43 chars) or hex (64 chars).
 * The message never echoes the value.
 */
export function parseKek(value: string): KeyEncryptionKey {
  const text = value.trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(text)) bytes = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(text)) bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes?.length !== 32) {
    throw new QueueError(
      'INVALID_KEK',
      `The key-encryption key must be 32 random bytes as base64 (44 chars) or hex (64 chars); got ${text.length} characters. ` +
        'Generate one with `openssl rand -base64 32`.',
    );
  }
  return { key: createSecretKey(bytes) };
}

/** A fresh random KEK, e.g. for `npm start`'s local secret store. */
export function generateKek(): { kek: KeyEncryptionKey; base64: string } {
  const bytes = randomBytes(32);
  return { kek: { key: createSecretKey(bytes) }, base64: bytes.toString('base64') };
}

function aad(commonName: string, serialNumber: string): Buffer {
  // NUL cannot occur in either field, so ("a","bc") and ("ab","c") never share an AAD.
  return Buffer.from(`fsm-certs/key/v1\0${commonName}\0${serialNumber}`, 'utf8');
}

export function sealPrivateKey(kek: KeyEncryptionKey, privateKeyPem: string, commonName: string, serialNumber: string): string {
  // From the shared CSPRNG pool: each IV is fresh bytes never handed out before, so GCM's
  // "never repeat an IV under one key" holds as with a randomBytes call per seal.
  const iv = pooledRandomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(commonName, serialNumber));
  const ciphertext = Buffer.concat([cipher.update(privateKeyPem, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
}

export function openPrivateKey(kek: KeyEncryptionKey, sealed: string, commonName: string, serialNumber: string): string {
  const parts = sealed.split('.');
  const [version, ivText, tagText, ctText] = parts;
  if (parts.length !== 4 || version !== VERSION || ivText === undefined || tagText === undefined || ctText === undefined) {
    throw new QueueError('ENVELOPE_INVALID', `Encrypted key of ${commonName} is not a ${VERSION} envelope; the record is corrupt or from another version.`);
  }
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new QueueError('ENVELOPE_INVALID', `Encrypted key of ${commonName} has a malformed IV or tag; the record is corrupt.`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(commonName, serialNumber));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new QueueError(
      'ENVELOPE_INVALID',
      `Encrypted key of ${commonName} (serial ${serialNumber}) failed authentication: it was sealed under another key-encryption key, ` +
        'for another certificate, or altered. Check that every service uses the same KEK.',
      { cause: error },
    );
  }
}
