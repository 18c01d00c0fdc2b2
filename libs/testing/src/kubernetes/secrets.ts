// core/v1 Secrets as the API server validates them: base64 data, stringData folded into data,
// type defaulted to Opaque and immutable afterwards, valid data keys, 1 MiB total, `immutable`.
import { KubeApiError } from './status.js';
import type { FieldCause, KubeObject, ResourceDefinition } from './types.js';

const MAX_SECRET_BYTES = 1024 * 1024;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new KubeApiError('BadRequest', `Secret in version "v1" cannot be handled as a Secret: ${field} must be an object`);
  }
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
    if (typeof entry !== 'string') {
      throw new KubeApiError('BadRequest', `Secret in version "v1" cannot be handled as a Secret: ${field}.${key} must be a string`);
    }
    out[key] = entry;
  }
  return out;
}

function prepareSecret(incoming: KubeObject): KubeObject {
  const data = stringMap(incoming.data, 'data');
  for (const [key, value] of Object.entries(data)) {
    if (!BASE64.test(value)) {
      throw new KubeApiError('BadRequest', `Secret in version "v1" cannot be handled as a Secret: illegal base64 data in data.${key}`);
    }
  }
  // stringData is write-only: merged into data, never stored or returned.
  for (const [key, value] of Object.entries(stringMap(incoming.stringData, 'stringData'))) {
    data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  const { stringData: _stringData, ...rest } = incoming;
  return { ...rest, type: typeof incoming.type === 'string' && incoming.type !== '' ? incoming.type : 'Opaque', data };
}

function validateSecret(secret: KubeObject, existing: KubeObject | undefined): FieldCause[] {
  const causes: FieldCause[] = [];
  const data = stringMap(secret.data, 'data');
  let total = 0;
  for (const [key, value] of Object.entries(data)) {
    if (!DATA_KEY.test(key) || key.length > 253 || key === '.' || key === '..') {
      causes.push({
        reason: 'FieldValueInvalid',
        field: `data[${key}]`,
        message: `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
      });
    }
    total += key.length + Buffer.from(value, 'base64').length;
  }
  if (total > MAX_SECRET_BYTES) {
    causes.push({ reason: 'FieldValueTooLong', field: 'data', message: `Too long: must have at most ${MAX_SECRET_BYTES} bytes` });
  }
  if (secret.type === 'kubernetes.io/tls') {
    for (const key of ['tls.crt', 'tls.key']) {
      if (data[key] === undefined) causes.push({ reason: 'FieldValueRequired', field: `data[${key}]`, message: 'Required value' });
    }
  }
  if (existing !== undefined) {
    if (existing.type !== secret.type) {
      causes.push({ reason: 'FieldValueInvalid', field: 'type', message: `Invalid value: "${String(secret.type)}": field is immutable` });
    }
    if (existing.immutable === true) {
      if (JSON.stringify(existing.data ?? {}) !== JSON.stringify(data)) {
        causes.push({ reason: 'FieldValueForbidden', field: 'data', message: 'Forbidden: field is immutable when `immutable` is set' });
      }
      if (secret.immutable !== true) {
        causes.push({ reason: 'FieldValueForbidden', field: 'immutable', message: 'Forbidden: field is immutable when `immutable` is set' });
      }
    }
  }
  return causes;
}

export const SECRET_RESOURCE: ResourceDefinition = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  namespaced: true,
  allowUnconditionalUpdate: true,
  prepare: (incoming) => prepareSecret(incoming),
  validate: validateSecret,
};
