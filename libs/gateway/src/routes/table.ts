// Registers one express handler per operation of the contract (@fsm-certs/api OPERATIONS): the
// path, method and required scope come from the table, so the routes served are the routes
// documented. A known path asked with a method it does not have is a 405 with Allow.
import type { Express, RequestHandler } from 'express';
import { OPERATIONS, allowedMethods, type Access, type OperationId, type OperationSpec } from '@fsm-certs/api';
import { GatewayError } from '../errors.js';

/** One handler per operation: a missing one does not compile. */
export type OperationHandlers = Readonly<Record<OperationId, RequestHandler>>;

/** `/v1/certificates/{cn}` -> `/v1/certificates/:cn`. */
export function expressPath(template: string): string {
  return template.replace(/\{(\w+)\}/g, ':$1');
}

export interface OperationGuards {
  /** Authentication + scope check for an access level other than public. */
  readonly forScope: (scope: Exclude<Access, 'public'>) => RequestHandler;
  /** Operations whose handler authenticates inline (the hot issue route). */
  readonly inline: ReadonlySet<OperationId>;
}

export function registerOperations(app: Express, handlers: OperationHandlers, guards: OperationGuards, order: readonly OperationId[]): void {
  const entries = Object.entries(OPERATIONS) as Array<[OperationId, OperationSpec]>;
  // Hot routes first: the router tries layers in order.
  entries.sort(([a], [b]) => rank(order, a) - rank(order, b));
  for (const [id, op] of entries) {
    const chain: RequestHandler[] = op.access === 'public' || guards.inline.has(id) ? [] : [guards.forScope(op.access)];
    app[op.method](expressPath(op.path), ...chain, handlers[id]);
  }
  for (const path of new Set(entries.map(([, op]) => op.path))) {
    const allow = allowedMethods(path);
    app.all(expressPath(path), (req) => {
      throw new GatewayError('METHOD_NOT_ALLOWED', `${req.method} is not supported on ${path}; use ${allow.join(', ')}.`, { allow });
    });
  }
}

function rank(order: readonly OperationId[], id: OperationId): number {
  const at = order.indexOf(id);
  return at < 0 ? order.length : at;
}
