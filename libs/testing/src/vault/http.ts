// Small HTTP helpers for the Vault emulator: Vault's response envelope, its error body shape
// ({"errors":[...]}) and its TTL syntax (Go duration string or integer seconds).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { formatDuration, parseDuration } from '@fsm-certs/core';

/** A failure the emulator answers with Vault's error body. */
export class VaultApiError extends Error {
  override readonly name = 'VaultApiError';
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
  ) {
    super(errors.join('; ') || `status ${status}`);
  }
}

export const badRequest = (message: string): VaultApiError => new VaultApiError(400, [message]);
export const permissionDenied = (): VaultApiError => new VaultApiError(403, ['permission denied']);
/** Vault answers a plain miss (unknown path, absent object) with 404 and an empty errors list. */
export const notFound = (): VaultApiError => new VaultApiError(404, []);

export interface EnvelopeParts {
  readonly data?: Record<string, unknown> | null;
  readonly warnings?: readonly string[];
  readonly auth?: Record<string, unknown> | null;
  /** Extra top-level keys (sys endpoints echo their fields beside `data`). */
  readonly topLevel?: Record<string, unknown>;
}

export function envelope(parts: EnvelopeParts): Record<string, unknown> {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    ...parts.topLevel,
    data: parts.data ?? null,
    wrap_info: null,
    warnings: parts.warnings && parts.warnings.length > 0 ? [...parts.warnings] : null,
    auth: parts.auth ?? null,
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status = 204): void {
  res.writeHead(status);
  res.end();
}

export function sendError(res: ServerResponse, error: VaultApiError): void {
  sendJson(res, error.status, { errors: [...error.errors] });
}

const MAX_BODY_BYTES = 1024 * 1024;

export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw badRequest('request body too large');
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest('failed to parse JSON input: invalid character in request body');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest('failed to parse JSON input: expected an object');
  }
  return parsed as Record<string, unknown>;
}

/** Vault TTLs: integer seconds (number or digit string) or a Go duration. Returns seconds; undefined when absent. */
export function parseTtlSeconds(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.floor(value);
  if (typeof value === 'string') {
    if (/^\d+$/.test(value)) return Number(value);
    try {
      return Math.floor(parseDuration(value) / 1000);
    } catch {
      throw badRequest(`error converting input ${value} for field "${field}": time: invalid duration "${value}"`);
    }
  }
  throw badRequest(`error converting input for field "${field}": expected a duration`);
}

/** Lists arrive as JSON arrays or comma-separated strings. */
export function parseList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map(String).map((s) => s.trim()).filter((s) => s !== '');
  return String(value)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parseBool(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1' || value === 1) return true;
  if (value === 'false' || value === '0' || value === 0) return false;
  throw badRequest(`error converting input ${String(value)}: expected a boolean`);
}

export function parseOptionalString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return String(value);
}

/** Go's time.Duration.String() for whole seconds, as Vault prints TTLs in warnings ("24h0m0s"). */
export function goDuration(seconds: number): string {
  return formatDuration(seconds * 1000);
}
