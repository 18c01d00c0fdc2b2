// startAgent's options, documented field by field with their defaults; validated at once, so a
// wrong option fails before anything is written or requested.
import { DEFAULT_KEY_ALGORITHM, KEY_ALGORITHMS, parseDurationMs, defaultRandom, type KeyAlgorithm, type RandomSource } from '@fsm-certs/core';
import { z } from 'zod';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { systemAgentClock, type AgentClock } from './clock.js';
import { AgentError } from './errors.js';
import { isSignalName, type ReloadHook } from './hook.js';
import { silentLogger, type AgentLogger } from './logger.js';
import type { TokenSource } from './token.js';

/** How the key is made: locally with a CSR sent to the gateway (it never leaves the pod), or by the gateway. */
export const KEY_MODES = ['csr', 'server'] as const;
export type KeyMode = (typeof KEY_MODES)[number];

export interface AgentOptions {
  /** Base URL of the issuer-gateway, e.g. `http://issuer-gateway.fsm-system.svc:8080`. */
  readonly gatewayUrl: string;
  /** A bearer token. Exactly one of token / tokenFile. */
  readonly token?: string;
  /** A file holding the token (a projected ServiceAccount token); read again for every request. */
  readonly tokenFile?: string;
  /** The directory the agent owns: cert.pem, key.pem (0600), ca.pem (see files/layout.ts). */
  readonly dir: string;
  /** The certificate's common name, e.g. `bookstore-v2.bookstore.cluster.local`. */
  readonly commonName: string;
  /** Extra SANs (DNS names, IPs, URIs), as the gateway's `sans`. Default none. */
  readonly sans?: readonly string[];
  /** Ask for the SPIFFE URI derived from a `<sa>.<ns>.<trustDomain>` name. Default false. */
  readonly spiffe?: boolean;
  /** Default `csr`. */
  readonly keyMode?: KeyMode;
  /** Default ecdsa-p256 (core's DEFAULT_KEY_ALGORITHM). */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Go duration; default the gateway's serviceCertValidityDuration. */
  readonly validity?: string;
  /** Run after every change of the files. Default none. */
  readonly reload?: ReloadHook;
  /** Serve GET /healthz here (port 0: any free port). Default: no health server. */
  readonly health?: { readonly host: string; readonly port: number };
  /** Retry pacing after failures. Default 1 s doubling up to 60 s, jittered. */
  readonly backoff?: Partial<BackoffPolicy>;
  /** Timeout of each gateway request. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Reconnect the event stream when nothing (not even a keep-alive) arrived for this long. Default 45 s. */
  readonly eventsIdleTimeoutMs?: number;
  /** Never renew sooner than this after the last issuance (guards against a renew loop). Default 30 s. */
  readonly minRenewIntervalMs?: number;
  /**
   * When the gateway's issuing CA is no longer the one that signed our certificate (a root
   * rotation was activated), wait this long, plus up to as much again at random, for the
   * gateway's own re-issuance (announced as `rotated`) before issuing a new certificate
   * ourselves. Default 1 h.
   */
  readonly issuerChangeGraceMs?: number;
  /** Default the system clock. Tests pass a ManualClock. */
  readonly clock?: AgentClock;
  readonly random?: RandomSource;
  readonly logger?: AgentLogger;
}

export interface ResolvedOptions {
  readonly gatewayUrl: string;
  readonly token: TokenSource;
  readonly dir: string;
  readonly commonName: string;
  readonly sans: readonly string[];
  readonly spiffe: boolean;
  readonly keyMode: KeyMode;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly validity: string | undefined;
  readonly reload: ReloadHook | undefined;
  readonly health: { readonly host: string; readonly port: number } | undefined;
  readonly backoff: BackoffPolicy;
  readonly requestTimeoutMs: number;
  readonly eventsIdleTimeoutMs: number;
  readonly minRenewIntervalMs: number;
  readonly issuerChangeGraceMs: number;
  readonly clock: AgentClock;
  readonly random: RandomSource;
  readonly logger: AgentLogger;
}

const positiveMs = z.number().int().positive().max(2 ** 40);

const reloadSchema = z.union([
  z.object({ command: z.string().min(1), timeoutMs: positiveMs.optional() }).strict(),
  z.object({ signal: z.string().refine(isSignalName, 'must be a signal name such as SIGHUP'), pid: z.number().int().min(2) }).strict(),
  z.object({ signal: z.string().refine(isSignalName, 'must be a signal name such as SIGHUP'), pidFile: z.string().min(1) }).strict(),
]);

const schema = z.object({
  gatewayUrl: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  token: z.string().min(1).optional(),
  tokenFile: z.string().min(1).optional(),
  dir: z.string().min(1),
  commonName: z.string().min(1).max(253),
  sans: z.array(z.string().min(1)).max(100).optional(),
  spiffe: z.boolean().optional(),
  keyMode: z.enum(KEY_MODES).optional(),
  keyAlgorithm: z.enum(KEY_ALGORITHMS).optional(),
  validity: z
    .string()
    .refine((value) => {
      try {
        parseDurationMs(value);
        return true;
      } catch {
        return false;
      }
    }, 'must be a Go duration such as 24h or 1h30m')
    .optional(),
  reload: reloadSchema.optional(),
  health: z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65_535) }).optional(),
  backoff: z.object({ initialMs: positiveMs.optional(), maxMs: positiveMs.optional() }).optional(),
  requestTimeoutMs: positiveMs.optional(),
  eventsIdleTimeoutMs: positiveMs.optional(),
  minRenewIntervalMs: z.number().int().min(0).max(2 ** 40).optional(),
  issuerChangeGraceMs: z.number().int().min(0).max(2 ** 40).optional(),
});

export function resolveOptions(options: AgentOptions): ResolvedOptions {
  const { clock, random, logger, ...data } = options;
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AgentError('AGENT_INVALID_OPTIONS', `agent option ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const o = parsed.data;
  const token: TokenSource | undefined = o.token !== undefined ? { token: o.token } : o.tokenFile !== undefined ? { tokenFile: o.tokenFile } : undefined;
  if (token === undefined || (o.token !== undefined && o.tokenFile !== undefined)) {
    throw new AgentError('AGENT_INVALID_OPTIONS', 'give exactly one of token and tokenFile (a ServiceAccount token file is read again for every request)');
  }
  const backoff = { ...DEFAULT_BACKOFF, ...o.backoff };
  if (backoff.maxMs < backoff.initialMs) throw new AgentError('AGENT_INVALID_OPTIONS', `backoff.maxMs (${backoff.maxMs}) is below backoff.initialMs (${backoff.initialMs})`);
  return {
    gatewayUrl: o.gatewayUrl.replace(/\/+$/, ''),
    token,
    dir: o.dir,
    commonName: o.commonName.toLowerCase(),
    sans: o.sans ?? [],
    spiffe: o.spiffe ?? false,
    keyMode: o.keyMode ?? 'csr',
    keyAlgorithm: o.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM,
    validity: o.validity,
    // Re-taken from the caller: zod's copy of a union loses nothing, but the signal name is now checked.
    reload: options.reload,
    health: o.health,
    backoff,
    requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
    eventsIdleTimeoutMs: o.eventsIdleTimeoutMs ?? 45_000,
    minRenewIntervalMs: o.minRenewIntervalMs ?? 30_000,
    issuerChangeGraceMs: o.issuerChangeGraceMs ?? 3_600_000,
    clock: clock ?? systemAgentClock,
    random: random ?? defaultRandom,
    logger: logger ?? silentLogger,
  };
}
