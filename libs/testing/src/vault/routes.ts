// Shared shapes for the emulator's route handlers.
import type { MountEntry, TokenEntry } from './state.js';

export type RouteResult =
  | { readonly kind: 'json'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'raw'; readonly status: number; readonly contentType: string; readonly body: Buffer | string }
  | { readonly kind: 'empty'; readonly status: number };

export interface RouteContext {
  /** Upper-case HTTP verb; `LIST` or `GET ...?list=true` both arrive as LIST. */
  readonly method: string;
  readonly body: Record<string, unknown>;
  readonly now: Date;
  /** The token that authenticated the call, undefined for unauthenticated paths. */
  readonly token: TokenEntry | undefined;
}

export interface PkiContext extends RouteContext {
  readonly mount: MountEntry;
  /** Path below the mount, e.g. `issue/fsm`. */
  readonly subPath: string;
}

export const json = (status: number, body: unknown): RouteResult => ({ kind: 'json', status, body });
export const empty = (status = 204): RouteResult => ({ kind: 'empty', status });
