// The online commands, each a small module; this maps a parsed command onto one of them.
import type { Connection } from '../connection.js';
import type { CliIo } from '../io.js';
import type { ParsedCommand } from '../run.js';
import { showAudit } from './audit.js';
import { caShow } from './ca.js';
import { certRelease, certRotate } from './cert-change.js';
import { certIssue } from './cert-issue.js';
import { certGet, certList } from './cert-read.js';
import { check, graceOption, rootDaysOption, rootWarnOption } from './check.js';
import { rootRotationAction, rootRotationStart, rootRotationStatus } from './rotation.js';
import { countOption, followEvents } from './events.js';
import { openGateway } from './gateway.js';

export async function runOnline(command: ParsedCommand, connection: Connection, io: CliIo): Promise<number> {
  const { flags, operands } = command;
  const line = (text: string): void => io.stdout(`${text}\n`);
  const commonName = operands[0];
  switch (command.name) {
    case 'ca show':
    case 'ca dates':
      await caShow(openGateway(connection), { dates: command.name === 'ca dates', json: flags.json === true }, io.stdout);
      return 0;
    case 'cert issue':
      await certIssue(openGateway(connection), { commonName, out: flags.out, san: flags.san, validity: flags.validity, key: flags.key, csr: flags.csr, spiffe: flags.spiffe, force: flags.force }, line);
      return 0;
    case 'cert get':
      await certGet(openGateway(connection), { commonName, json: flags.json }, io.now(), io.stdout);
      return 0;
    case 'cert list':
      await certList(openGateway(connection), { limit: flags.limit, json: flags.json }, io.now(), io.stdout, (warning) => io.stderr(`fsm-certs: ${warning}\n`));
      return 0;
    case 'cert rotate':
      await certRotate(openGateway(connection), { commonName, out: flags.out, force: flags.force }, line);
      return 0;
    case 'cert release':
      await certRelease(openGateway(connection), { commonName }, line);
      return 0;
    case 'events': {
      const count = countOption(flags.count);
      await followEvents(openGateway(connection), { from: flags.from, count, signal: io.signal }, line, (note) => io.stderr(`fsm-certs: ${note}\n`));
      return 0;
    }
    case 'check': {
      const policy = { rootDays: rootDaysOption(flags['root-days']), rootWarnMs: rootWarnOption(flags['root-warn']), graceMs: graceOption(flags.grace) };
      return check(openGateway(connection), policy, io.now, line);
    }
    case 'ca rotate':
      await rootRotationStart(openGateway(connection), { auto: flags.auto === true, propagation: flags.propagation, spread: flags.spread, json: flags.json === true }, io.now(), line);
      return 0;
    case 'ca rotation status':
      await rootRotationStatus(openGateway(connection), { json: flags.json === true }, io.now(), line);
      return 0;
    case 'ca rotation activate':
    case 'ca rotation retire':
    case 'ca rotation pause':
    case 'ca rotation resume':
    case 'ca rotation rollback': {
      const action = command.name.slice('ca rotation '.length) as 'activate' | 'retire' | 'pause' | 'resume' | 'rollback';
      await rootRotationAction(openGateway(connection), { action, force: flags.force === true, json: flags.json === true }, io.now(), line);
      return 0;
    }
    case 'audit':
      await showAudit(openGateway(connection), { name: flags.name, caller: flags.caller, since: flags.since, limit: flags.limit, json: flags.json }, io.now(), line);
      return 0;
    default:
      throw new Error(`no online command "${command.name}"`);
  }
}
