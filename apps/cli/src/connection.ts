// Where the gateway is and how to authenticate: flags, then FSM_CERTS_* env, then the
// .data/endpoint.json that `npm start` writes ($FSM_DATA_DIR, cwd, repository root). The file's
// admin token is only ever sent to the gateway the same file names, never to another server.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CliInputError } from './errors.js';

export interface ConnectionFlags {
  readonly server?: string | undefined;
  readonly token?: string | undefined;
  readonly ca?: string | undefined;
}

export interface Connection {
  /** Base URL of the gateway, without a trailing slash. */
  readonly server: string;
  readonly token?: string;
  /** PEM roots to trust for an https gateway. */
  readonly caFile?: string;
  /** Where `server` came from, for messages: "--server", "FSM_CERTS_SERVER" or the file path. */
  readonly source: string;
}

export interface ResolveConnectionInput {
  readonly flags: ConnectionFlags;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** The repository root, searched after cwd; default: three levels above this file. */
  readonly repoRoot?: string;
}

const endpointFileSchema = z.object({
  gatewayUrl: z.string().min(1),
  adminToken: z.string().min(1).optional(),
  caFile: z.string().min(1).optional(),
});

/** apps/cli/src/connection.ts (or dist/connection.js) → the repository root. */
export function defaultRepoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** The endpoint.json files looked at, in order (duplicates removed). */
export function endpointFileCandidates(input: ResolveConnectionInput): string[] {
  // An explicit FSM_DATA_DIR (npm start honours it too) outranks whatever .data the cwd holds.
  const dataDir = nonEmpty(input.env['FSM_DATA_DIR']);
  const dirs = [
    ...(dataDir === undefined ? [] : [path.resolve(input.cwd, dataDir)]),
    path.join(input.cwd, '.data'),
    path.join(input.repoRoot ?? defaultRepoRoot(), '.data'),
  ];
  return [...new Set(dirs.map((dir) => path.join(dir, 'endpoint.json')))];
}

export function resolveConnection(input: ResolveConnectionInput): Connection {
  const { flags, env } = input;
  const envServer = nonEmpty(env['FSM_CERTS_SERVER']);
  const token = nonEmpty(flags.token) ?? nonEmpty(env['FSM_CERTS_TOKEN']);
  const caFile = nonEmpty(flags.ca) ?? nonEmpty(env['FSM_CERTS_CA']);
  const given = nonEmpty(flags.server) ?? envServer;
  if (given !== undefined) {
    return build(given, nonEmpty(flags.server) !== undefined ? '--server' : 'FSM_CERTS_SERVER', token, caFile, input.cwd);
  }
  const candidates = endpointFileCandidates(input);
  const file = candidates.find((candidate) => existsSync(candidate));
  if (file === undefined) {
    throw new CliInputError(
      'no gateway to talk to: pass --server URL --token T, or set FSM_CERTS_SERVER and FSM_CERTS_TOKEN, ' +
        `or run \`npm start\`, which writes .data/endpoint.json (looked for: ${candidates.join(', ')})`,
      { code: 'NO_SERVER' },
    );
  }
  const endpoint = readEndpointFile(file);
  // The file's CA path is relative to the file when not absolute.
  const fileCa = endpoint.caFile === undefined ? undefined : path.resolve(path.dirname(file), endpoint.caFile);
  return build(endpoint.gatewayUrl, file, token ?? endpoint.adminToken, caFile ?? fileCa, input.cwd);
}

/** Commands other than `ca show` / `ca dates` need a token; say every way to give one. */
export function requireToken(connection: Connection, command: string): string {
  if (connection.token !== undefined) return connection.token;
  throw new CliInputError(
    `${command} needs a token for ${connection.server}: pass --token T or set FSM_CERTS_TOKEN ` +
      '(`npm start` puts its admin token in .data/endpoint.json)',
    { code: 'NO_TOKEN' },
  );
}

function readEndpointFile(file: string): z.infer<typeof endpointFileSchema> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliInputError(`${file} is not readable JSON (${(error as Error).message}); delete it and run \`npm start\` again`, {
      code: 'BAD_ENDPOINT_FILE',
      cause: error,
    });
  }
  const parsed = endpointFileSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new CliInputError(`${file} lacks a valid ${fields}; it should hold {"gatewayUrl", "adminToken", "caFile"} as written by \`npm start\``, {
      code: 'BAD_ENDPOINT_FILE',
    });
  }
  return parsed.data;
}

function build(server: string, source: string, token: string | undefined, caFile: string | undefined, cwd: string): Connection {
  let url: URL;
  try {
    url = new URL(server);
  } catch (error) {
    throw new CliInputError(`gateway URL ${JSON.stringify(server)} (from ${source}) is not a URL; use e.g. http://127.0.0.1:8080`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliInputError(`gateway URL ${JSON.stringify(server)} (from ${source}) must be http:// or https://`);
  }
  return {
    server: url.toString().replace(/\/+$/, ''),
    source,
    ...(token === undefined ? {} : { token }),
    ...(caFile === undefined ? {} : { caFile: path.resolve(cwd, caFile) }),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
