// Seals server-generated private keys before they reach Redis (inventory records, job results).
// AES-256-GCM under a 32-byte key-encryption key; the AAD binds a blob to its (commonName,
// serial) so a ciphertext copied onto another record fails to open. Format, all base64url:
//   v1.<iv 12 bytes>.<tag 16 bytes>.<ciphertext of the key's PEM>
//   v2.<iv 12 bytes>.<tag 16 bytes>.<ciphertext of the key's PKCS#8 DER>
// v2 is ~140 characters shorter (a stored record's key); older versions open only v1, so v2 is
// sealed only where compact or binary records are written (INVENTORY_RECORD_FORMAT). A binary
// record stores a v2 envelope's IV, tag and ciphertext as raw bytes and rebuilds this text on read.
import { createCipheriv, createDecipheriv, randomBytes, type KeyObject, createSecretKey } from 'node:crypto';
import { pooledRandomBytes } from '@fsm-certs/x509';
import { QueueError } from '../errors.js';

const VERSION = 'v1';
const DER_VERSION = 'v2';
const KEY_BEGIN = '-----BEGIN PRIVATE KEY-----\n';
const KEY_END = '-----END PRIVATE KEY-----\n';
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

function aad(commonName: string, serialNumber: string, version: string = VERSION): Buffer {
  // NUL cannot occur in either field, so ("a","bc") and ("ab","c") never share an AAD.
  return Buffer.from(`fsm-certs/key/${version}\0${commonName}\0${serialNumber}`, 'utf8');
}

function pkcs8Pem(der: Buffer): string {
  const body = der.toString('base64');
  let out = KEY_BEGIN;
  for (let i = 0; i < body.length; i += 64) out += `${body.slice(i, i + 64)}\n`;
  return out + KEY_END;
}

/** The DER of a PKCS#8 PEM, only when opening it gives back exactly this PEM. */
function pkcs8Der(pem: string): Buffer | undefined {
  if (!pem.startsWith(KEY_BEGIN) || !pem.endsWith(KEY_END)) return undefined;
  const body = pem.slice(KEY_BEGIN.length, pem.length - KEY_END.length).replace(/\n/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return undefined;
  const der = Buffer.from(body, 'base64');
  return pkcs8Pem(der) === pem ? der : undefined;
}

/** An envelope as text (what records and results carry) and as bytes: version, IV, tag, ciphertext (what a binary record stores). */
export interface SealedKey {
  readonly text: string;
  readonly bytes: Buffer;
}

function sealBytes(kek: KeyEncryptionKey, plain: Buffer | string, version: string, commonName: string, serialNumber: string): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  // From the shared CSPRNG pool: each IV is fresh bytes never handed out before, so GCM's
  // "never repeat an IV under one key" holds as with a randomBytes call per seal.
  const iv = pooledRandomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(commonName, serialNumber, version));
  const head = typeof plain === 'string' ? cipher.update(plain, 'utf8') : cipher.update(plain);
  const tail = cipher.final();
  return { iv, tag: cipher.getAuthTag(), ciphertext: tail.length === 0 ? head : Buffer.concat([head, tail]) };
}

/**
 * Seals a key given as its PKCS#8 DER (v2), as sealPrivateKey does with `der: true` for that DER's
 * PEM, without building or parsing the PEM: for a caller that generated the key and has the DER.
 */
export function sealPrivateKeyDer(kek: KeyEncryptionKey, pkcs8Der: Buffer, commonName: string, serialNumber: string): SealedKey {
  const { iv, tag, ciphertext } = sealBytes(kek, pkcs8Der, DER_VERSION, commonName, serialNumber);
  const bytes = Buffer.allocUnsafe(1 + IV_BYTES + TAG_BYTES + ciphertext.length);
  bytes[0] = 2;
  iv.copy(bytes, 1);
  tag.copy(bytes, 1 + IV_BYTES);
  ciphertext.copy(bytes, 1 + IV_BYTES + TAG_BYTES);
  const text = `${DER_VERSION}.${iv.toString('base64url')}.${tag.toString('base64url')}.${ciphertext.toString('base64url')}`;
  return { text, bytes };
}

export interface SealOptions {
  /** Seal the key's DER (v2) instead of its PEM, when the PEM is a PKCS#8 one that comes back exactly. */
  readonly der?: boolean;
}

export function sealPrivateKey(kek: KeyEncryptionKey, privateKeyPem: string, commonName: string, serialNumber: string, options: SealOptions = {}): string {
  const der = options.der === true ? pkcs8Der(privateKeyPem) : undefined;
  const version = der === undefined ? VERSION : DER_VERSION;
  const { iv, tag, ciphertext } = sealBytes(kek, der ?? privateKeyPem, version, commonName, serialNumber);
  return [version, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
}

export function openPrivateKey(kek: KeyEncryptionKey, sealed: string, commonName: string, serialNumber: string): string {
  const parts = sealed.split('.');
  const [version, ivText, tagText, ctText] = parts;
  if (parts.length !== 4 || (version !== VERSION && version !== DER_VERSION) || ivText === undefined || tagText === undefined || ctText === undefined) {
    throw new QueueError('ENVELOPE_INVALID', `Encrypted key of ${commonName} is not a ${VERSION} or ${DER_VERSION} envelope; the record is corrupt or from another version.`);
  }
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new QueueError('ENVELOPE_INVALID', `Encrypted key of ${commonName} has a malformed IV or tag; the record is corrupt.`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(commonName, serialNumber, version));
    decipher.setAuthTag(tag);
    const head = decipher.update(Buffer.from(ctText, 'base64url'));
    const tail = decipher.final();
    // GCM's final() gives nothing more: the key is update()'s output, not a copy of it.
    const plain = tail.length === 0 ? head : Buffer.concat([head, tail]);
    return version === DER_VERSION ? pkcs8Pem(plain) : plain.toString('utf8');
  } catch (error) {
    throw new QueueError(
      'ENVELOPE_INVALID',
      `Encrypted key of ${commonName} (serial ${serialNumber}) failed authentication: it was sealed under another key-encryption key, ` +
        'for another certificate, or altered. Check that every service uses the same KEK.',
      { cause: error },
    );
  }
}
