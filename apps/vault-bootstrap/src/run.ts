// One vault-bootstrap run: config → client → wait for health → plan (dry run) or apply, printing
// each step and whether it changed anything. Returns the process exit code.
import { Writable } from 'node:stream';
import { ConfigError, loadConfig } from '@fsm-certs/config';
import type { FsmConfig } from '@fsm-certs/config';
import {
  ProviderError, VaultClient, applyBootstrap, bootstrapSettingsSchema, createVaultTransport, createSecretStore,
  planBootstrap, vaultConnection, waitForHealth,
} from '@fsm-certs/providers';
import type { PlannedStep, Sleep, VaultLogger } from '@fsm-certs/providers';
import { EXIT_CODES, createLogger, logLevelFromEnv } from '@fsm-certs/runtime';
import { USAGE, UsageError, parseBootstrapArgs } from './args.js';

/** The services' exit codes (0 ok, 1 failed, 2 bad configuration), plus two a one-shot job can tell apart. */
export const EXIT = { ...EXIT_CODES, unreachable: 3, refused: 4 } as const;

export interface RunDeps {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly logger?: VaultLogger;
  readonly sleep?: Sleep;
  /** Milliseconds clock of the health wait's deadline; tests pass one their sleep moves on. */
  readonly now?: () => number;
}

/**
 * The services' logger (JSON, redacted) on the error stream: the human-readable steps own
 * stdout, so Vault request lines show only from LOG_LEVEL=info on; warnings and errors always.
 */
function stderrLogger(env: NodeJS.ProcessEnv, err: (line: string) => void): VaultLogger {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') err(line);
      done();
    },
  });
  const level = env['LOG_LEVEL'] === undefined ? 'warn' : logLevelFromEnv(env);
  return createLogger({ service: 'vault-bootstrap', level, destination });
}

function stepLine(step: PlannedStep, dryRun: boolean): string {
  const mark = step.action === 'none' ? 'unchanged' : dryRun ? `would ${step.action}` : step.action === 'create' ? 'created' : 'updated';
  return `  ${step.name.padEnd(6)} ${mark.padEnd(14)} ${step.summary}`;
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof ConfigError) return EXIT.badConfig;
  if (error instanceof ProviderError) {
    if (error.code === 'BACKEND_UNAVAILABLE') return EXIT.unreachable;
    if (error.code === 'CONFIGURATION_INVALID') return EXIT.badConfig;
    return EXIT.refused;
  }
  return EXIT.failed;
}

export async function runBootstrap(deps: RunDeps): Promise<number> {
  const { out, err } = deps;
  if (deps.argv.includes('--help') || deps.argv.includes('-h')) {
    out(USAGE);
    return EXIT.ok;
  }
  try {
    // Bootstrap needs the vault.* section whatever provider the rest of the system uses.
    const config: FsmConfig = loadConfig({ env: { ...deps.env, CERT_MANAGER: 'vault' } });
    const args = parseBootstrapArgs(deps.argv, { mountPath: config.vault.mountPath, role: config.vault.role });
    const parsed = bootstrapSettingsSchema.safeParse(args.settings);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UsageError(`invalid setting ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    const settings = parsed.data;
    const store = config.vault.token === undefined ? createSecretStore(config) : undefined;
    const connection = await vaultConnection(config, store);
    const client = new VaultClient({
      transport: createVaultTransport({ address: connection.address, ...(connection.caPem === undefined ? {} : { caPem: connection.caPem }) }),
      tokenSource: connection.tokenSource,
      logger: deps.logger ?? stderrLogger(deps.env, err),
      ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
    });
    out(`vault-bootstrap: ${connection.address}, mount ${settings.mountPath}/, role ${settings.role.name}${args.dryRun ? ' (dry run)' : ''}`);
    out(`  health unchanged      ${await waitForHealth(client, settings, { ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }), ...(deps.now === undefined ? {} : { now: deps.now }) })}`);
    if (args.dryRun) {
      const plan = await planBootstrap(client, settings);
      for (const step of plan) out(stepLine(step, true));
      out(plan.some((s) => s.action !== 'none') ? 'plan: changes pending (run without --dry-run to apply)' : 'plan: no changes');
      return EXIT.ok;
    }
    const report = await applyBootstrap(client, settings, (step) => out(stepLine(step, false)));
    out(report.changed ? 'done: Vault PKI is set up' : 'done: no changes');
    return EXIT.ok;
  } catch (error) {
    const code = exitCodeFor(error);
    const message = error instanceof Error ? error.message : String(error);
    err(`vault-bootstrap: ${code === EXIT.unreachable ? 'Vault unreachable' : code === EXIT.refused ? 'Vault refused' : code === EXIT.badConfig ? 'bad configuration' : 'failed'}: ${message}`);
    if (error instanceof UsageError) err('Run with --help for the options.');
    return code;
  }
}
