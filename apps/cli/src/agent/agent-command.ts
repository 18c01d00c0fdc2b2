// fsm-certs agent: runs the workload agent (libs/agent) until SIGTERM / Ctrl-C, logging JSON
// lines to stderr. The gateway is found like every online command's (flags, FSM_CERTS_* env,
// .data/endpoint.json); the token may also come from a file read for every request
// (--token-file / FSM_CERTS_TOKEN_FILE: a projected ServiceAccount token).
import path from 'node:path';
import { jsonLineLogger, startAgent, type AgentOptions } from '@fsm-certs/agent';
import { resolveConnection, type Connection } from '../connection.js';
import { CliInputError } from '../errors.js';
import type { CliIo } from '../io.js';
import type { ParsedCommand } from '../run.js';
import { agentOptionsFromFlags, logLevelOption } from './agent-options.js';

export interface AgentCommandDeps {
  /** Re-runs the command trusting the gateway's CA file (https), or undefined when not needed. */
  readonly relaunchForCa: (connection: Connection, io: CliIo) => Promise<number> | undefined;
}

function gatewayConnection(command: ParsedCommand, io: CliIo): Connection {
  const { flags } = command;
  try {
    return resolveConnection({ flags: { server: flags.gateway, token: flags.token, ca: flags['ca-file'] }, env: io.env, cwd: io.cwd });
  } catch (error) {
    if (error instanceof CliInputError && error.code === 'NO_SERVER') {
      throw new CliInputError('agent: no gateway to talk to: pass --gateway URL (or set FSM_CERTS_SERVER), e.g. --gateway http://issuer-gateway.fsm-system.svc:8080', { code: 'NO_SERVER', cause: error });
    }
    throw error;
  }
}

function tokenOf(command: ParsedCommand, connection: Connection, io: CliIo): Pick<AgentOptions, 'token' | 'tokenFile'> {
  const file = command.flags['token-file'] ?? (io.env['FSM_CERTS_TOKEN_FILE'] || undefined);
  if (file !== undefined) {
    if (command.flags.token !== undefined) throw new CliInputError('--token and --token-file exclude each other; a ServiceAccount token belongs in --token-file');
    return { tokenFile: path.resolve(io.cwd, file) };
  }
  if (connection.token !== undefined) return { token: connection.token };
  throw new CliInputError('agent needs a token: --token-file FILE (e.g. a projected ServiceAccount token), --token T, FSM_CERTS_TOKEN_FILE or FSM_CERTS_TOKEN', { code: 'NO_TOKEN' });
}

export async function runAgentCommand(command: ParsedCommand, io: CliIo, deps: AgentCommandDeps): Promise<number> {
  const options = agentOptionsFromFlags(command.flags, io.cwd);
  const level = logLevelOption(command.flags['log-level']);
  const connection = gatewayConnection(command, io);
  const token = tokenOf(command, connection, io);
  const relaunch = deps.relaunchForCa(connection, io);
  if (relaunch !== undefined) return relaunch;
  const logger = jsonLineLogger(io.stderr, { level, now: () => io.now().getTime() });
  const agent = await startAgent({ ...options, ...token, gatewayUrl: connection.server, logger });
  if (agent.healthUrl !== undefined) logger.info({ url: `${agent.healthUrl}/healthz` }, 'health endpoint listening');
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) return resolve();
    io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await agent.stop();
  return 0;
}
