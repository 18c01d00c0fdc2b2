// loadConfig: defaults < file (YAML or JSON) < environment. A bad value throws ConfigError with
// one line naming the key, the value (secrets redacted), where it came from and what is allowed.
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { ENV_BINDINGS, fsmConfigSchema } from './schema.js';
import type { FsmConfig } from './schema.js';
import { SERVICE_ACCOUNT_TOKEN_FILE, defaultSecretStoreKind } from './sections/secret-store.js';

export interface LoadConfigOptions {
  /** Environment to read; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** YAML or JSON file; default $FSM_CONFIG_FILE; none when neither is set. */
  readonly file?: string;
  /**
   * The pod's service-account token; when it exists the Kubernetes secret store is the default.
   * Default /var/run/secrets/kubernetes.io/serviceaccount/token (tests point it elsewhere).
   */
  readonly serviceAccountTokenFile?: string;
}

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function setPath(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  path.forEach((key, index) => {
    if (index === path.length - 1) {
      node[key] = value;
      return;
    }
    const child = node[key];
    if (isTree(child)) node = child;
    else {
      const fresh: Tree = {};
      node[key] = fresh;
      node = fresh;
    }
  });
}

function getPath(tree: Tree, path: readonly PropertyKey[]): unknown {
  let node: unknown = tree;
  for (const key of path) {
    if (!isTree(node)) return undefined;
    node = node[String(key)];
  }
  return node;
}

function readConfigFile(file: string, origin: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError('CONFIG_FILE_INVALID', `Cannot read config file ${file} (${origin}): ${reason}; fix the path or unset it.`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : parseYaml(text);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0] ?? 'syntax error';
    throw new ConfigError('CONFIG_FILE_INVALID', `Config file ${file} is not valid YAML or JSON: ${reason}`, { cause: error });
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isTree(parsed)) throw new ConfigError('CONFIG_FILE_INVALID', `Config file ${file} must hold a mapping of options at the top level (see docs/configuration.md).`);
  // Accept Helm-style values with everything under `fsm:` as FSM's `--set fsm.*` names suggest.
  const keys = Object.keys(parsed);
  const wrapped = parsed.fsm;
  if (keys.length === 1 && isTree(wrapped)) return wrapped;
  return parsed;
}

function describeValue(value: unknown, secret: boolean): string {
  if (value === undefined) return '(unset)';
  if (secret) return '"<redacted>"';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function allowedText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value') return `allowed: one of ${issue.values.map(String).join('|')}`;
  if (issue.code === 'unrecognized_keys') return 'not a known option (see docs/configuration.md)';
  return `allowed: ${issue.message}`;
}

function formatIssues(issues: readonly z.core.$ZodIssue[], raw: Tree, sources: Map<string, string>, secretPaths: Set<string>): string {
  const parts = issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const path = [...issue.path.map(String), key].join('.');
        return `${path} (${sources.get(path) ?? 'config file'}) ${allowedText(issue)}`;
      });
    }
    const path = issue.path.map(String).join('.');
    const value = getPath(raw, issue.path);
    const source = sources.get(path);
    return [`${path}=${describeValue(value, secretPaths.has(path))}${source ? ` (${source})` : ''}: ${allowedText(issue)}`];
  });
  return `Invalid configuration: ${parts.join('; ')}`;
}

export function loadConfig(options: LoadConfigOptions = {}): FsmConfig {
  const env = options.env ?? process.env;
  const envFile = env.FSM_CONFIG_FILE !== undefined && env.FSM_CONFIG_FILE !== '' ? env.FSM_CONFIG_FILE : undefined;
  const file = options.file ?? envFile;
  const origin = options.file !== undefined ? 'loadConfig file option' : 'FSM_CONFIG_FILE';
  const raw: Tree = file === undefined ? {} : readConfigFile(file, origin);

  const sources = new Map<string, string>();
  const secretPaths = new Set<string>();
  const recordFileSources = (tree: Tree, prefix: string[]): void => {
    for (const [key, value] of Object.entries(tree)) {
      const path = [...prefix, key];
      if (isTree(value)) recordFileSources(value, path);
      else if (file !== undefined) sources.set(path.join('.'), `file ${file}`);
    }
  };
  recordFileSources(raw, []);

  for (const binding of ENV_BINDINGS) {
    const path = binding.path.join('.');
    if (binding.secret) secretPaths.add(path);
    const value = env[binding.env];
    // An empty variable counts as unset, as .env files commonly leave them.
    if (value === undefined || value === '') continue;
    const writes = binding.expand ? binding.expand(value) : [{ path: binding.path, value }];
    for (const write of writes) {
      setPath(raw, write.path, write.value);
      sources.set(write.path.join('.'), `env ${binding.env}`);
    }
  }

  if (getPath(raw, ['secretStore', 'kind']) === undefined) {
    const kubeconfig = getPath(raw, ['kubeconfig']);
    const kind = defaultSecretStoreKind({
      kubeconfig: typeof kubeconfig === 'string' ? kubeconfig : undefined,
      inPod: existsSync(options.serviceAccountTokenFile ?? SERVICE_ACCOUNT_TOKEN_FILE),
    });
    setPath(raw, ['secretStore', 'kind'], kind);
  }

  const result = fsmConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError('CONFIG_INVALID', formatIssues(result.error.issues, raw, sources, secretPaths), { cause: result.error });
  return result.data;
}
