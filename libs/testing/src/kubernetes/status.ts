// Kubernetes `Status` error bodies, exactly as the API server shapes them
// (kind Status, apiVersion v1, status Failure, reason, code, message, details).
import type { FieldCause } from './types.js';

export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Forbidden'
  | 'Unauthorized'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'Gone'
  | 'InternalError'
  | 'ServiceUnavailable';

const CODES: Record<StatusReason, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Invalid: 422,
  BadRequest: 400,
  Forbidden: 403,
  Unauthorized: 401,
  MethodNotAllowed: 405,
  UnsupportedMediaType: 415,
  RequestEntityTooLarge: 413,
  Gone: 410,
  InternalError: 500,
  ServiceUnavailable: 503,
};

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly uid?: string;
  readonly causes?: readonly FieldCause[];
}

export interface StatusBody {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure' | 'Success';
  readonly message?: string;
  readonly reason?: StatusReason;
  readonly details?: StatusDetails;
  readonly code: number;
}

/** An API error carrying the Status the server answers with; thrown by the store, rendered by the router. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly code: number;

  constructor(
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.code = CODES[reason];
  }

  toStatus(): StatusBody {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details === undefined ? {} : { details: this.details }),
      code: this.code,
    };
  }
}

/** `kind` in details is the resource (plural), `group` only for non-core groups, as the API server does. */
function qualified(plural: string, group: string): string {
  return group === '' ? plural : `${plural}.${group}`;
}

function detailsFor(plural: string, group: string, name: string): StatusDetails {
  return group === '' ? { name, kind: plural } : { name, group, kind: plural };
}

export function notFound(plural: string, group: string, name: string): KubeApiError {
  return new KubeApiError('NotFound', `${qualified(plural, group)} "${name}" not found`, detailsFor(plural, group, name));
}

export function alreadyExists(plural: string, group: string, name: string): KubeApiError {
  return new KubeApiError('AlreadyExists', `${qualified(plural, group)} "${name}" already exists`, detailsFor(plural, group, name));
}

export function conflict(plural: string, group: string, name: string): KubeApiError {
  return new KubeApiError(
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(plural, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    detailsFor(plural, group, name),
  );
}

export function invalid(kind: string, group: string, name: string, causes: readonly FieldCause[]): KubeApiError {
  const summary = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  const qualifiedKind = group === '' ? kind : `${kind}.${group}`;
  return new KubeApiError('Invalid', `${qualifiedKind} "${name}" is invalid: ${causes.length > 1 ? `[${summary}]` : summary}`, {
    name,
    ...(group === '' ? {} : { group }),
    kind,
    causes,
  });
}

export function successStatus(details: StatusDetails): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}
