// The HTTP layer under node-vault: its documented `request-promise` option swaps the function
// node-vault sends every request with. Its own is axios (with follow-redirects), and measured with
// `npm run bench:vault-transport` against OpenBao at 16 callers it cost ~0.8 ms of CPU per call on
// top of Node's own HTTP client (config merging, interceptors, proxy and environment look-ups per
// request) — more than OpenBao spends issuing the certificate. node-vault keeps what it is for
// (Vault paths, the token and namespace headers, Vault's error answers); this sends the request
// over our keep-alive agent and reads the answer, nothing else.
//
// What it must keep from axios: JSON bodies in and out (a body that is not JSON, e.g. ca/pem,
// stays text), a per-request timeout, and following a standby's redirect to the active node on
// the same scheme only: a redirect from https to http is refused, so the token never travels in
// the clear.
import http from 'node:http';
import https from 'node:https';
import { onAbort } from './abort-fanout.js';

/** What node-vault hands its request function (request-promise's option names). */
export interface NodeVaultRequestOptions {
  readonly method: string;
  readonly uri: string;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  readonly timeout?: number;
  readonly signal?: AbortSignal;
}

/** What node-vault expects back (request-promise's full response). */
export interface NodeVaultResponse {
  readonly statusCode: number;
  readonly body: unknown;
  readonly request: { readonly path: string };
}

/** Hops followed at most, like axios' default maxRedirects. */
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '') return '';
  const first = text.trimStart()[0];
  if (contentType?.includes('json') === true || first === '{' || first === '[') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/** Where a Vault URL goes, as node:http options: parsed once per distinct URL, not per call. */
interface Target {
  readonly href: string;
  readonly protocol: string;
  readonly hostname: string;
  /** undefined: the scheme's default port. */
  readonly port: number | undefined;
  readonly path: string;
  readonly pathname: string;
}

const targets = new Map<string, Target>();

function targetOf(uri: string): Target {
  let target = targets.get(uri);
  if (target === undefined) {
    const url = new URL(uri);
    // A handful of distinct paths in practice (pki/issue/<role>, the trust reads); bounded anyway.
    if (targets.size >= 256) targets.clear();
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    target = {
      href: url.href,
      protocol: url.protocol,
      hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      pathname: url.pathname,
    };
    targets.set(uri, target);
  }
  return target;
}

function once(agent: http.Agent, target: Target, options: NodeVaultRequestOptions, payload: string | undefined): Promise<{ status: number; location: string | undefined; body: unknown }> {
  const { signal } = options;
  const headers: Record<string, string | number> = { accept: 'application/json', ...options.headers };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new RequestError('ABORT_ERR', 'the caller stopped waiting'));
      return;
    }
    const request = (target.protocol === 'https:' ? https : http).request(
      { protocol: target.protocol, hostname: target.hostname, ...(target.port === undefined ? {} : { port: target.port }), path: target.path, method: options.method, headers, agent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          unsubscribe();
          const text = chunks.length === 1 && chunks[0] !== undefined ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
          const location = response.headers.location;
          resolve({ status: response.statusCode ?? 0, location, body: parseBody(text, response.headers['content-type']) });
        });
      },
    );
    function fail(error: unknown): void {
      unsubscribe();
      reject(error);
    }
    // Not node:http's `signal` option: that adds a listener per request to a signal a whole job shares.
    const unsubscribe = signal === undefined ? () => undefined : onAbort(signal, () => request.destroy(new RequestError('ABORT_ERR', 'the caller stopped waiting')));
    if (options.timeout !== undefined && options.timeout > 0) {
      request.setTimeout(options.timeout, () => request.destroy(new RequestError('ETIMEDOUT', `no answer within ${options.timeout} ms`)));
    }
    request.on('error', fail);
    request.end(payload);
  });
}

/**
 * The request function for node-vault's `request-promise` option (node-vault calls
 * `.defaults(rpDefaults)` on it once). Only `agent`'s scheme is spoken; rpDefaults (which read
 * VAULT_SKIP_VERIFY from the environment) are ignored on purpose: TLS is the agent's.
 */
export function nodeVaultRequester(agent: http.Agent): { defaults(): (options: NodeVaultRequestOptions) => Promise<NodeVaultResponse> } {
  const protocol = agent instanceof https.Agent ? 'https:' : 'http:';
  const send = async (options: NodeVaultRequestOptions): Promise<NodeVaultResponse> => {
    let target = targetOf(options.uri);
    let method = options.method;
    let payload = options.json !== undefined && options.json !== null && typeof options.json === 'object' ? JSON.stringify(options.json) : undefined;
    for (let hop = 0; ; hop++) {
      if (target.protocol !== protocol) throw new RequestError('ERR_INVALID_PROTOCOL', `refusing ${target.protocol} for a Vault reached over ${protocol}`);
      const answer = await once(agent, target, { ...options, method }, payload);
      if (!REDIRECTS.has(answer.status) || answer.location === undefined) {
        return { statusCode: answer.status, body: answer.body, request: { path: target.pathname } };
      }
      if (hop >= MAX_REDIRECTS) throw new RequestError('ERR_FR_TOO_MANY_REDIRECTS', `more than ${MAX_REDIRECTS} redirects`);
      target = targetOf(new URL(answer.location, target.href).href);
      if (answer.status === 303) {
        method = 'GET';
        payload = undefined;
      }
    }
  };
  return { defaults: () => send };
}
