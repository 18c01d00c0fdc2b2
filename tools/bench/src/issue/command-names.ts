// How a top-level Redis command MONITOR shows is named in the benches' reports: the sending
// process, the command, and for scripts BullMQ's script name (by SHA-1) or, for ours, the last two
// segments of the first key; for blocking pops the list's name. Used by bench:critical-path and
// hop-floor-bench.
import { createHash } from 'node:crypto';
import * as bullmqScripts from 'bullmq/dist/esm/scripts/index.js';

/** BullMQ's scripts by SHA-1, so EVALSHA lines read as `moveToActive` rather than a hash. */
const BULLMQ_SCRIPTS = new Map<string, string>();
for (const script of Object.values(bullmqScripts) as unknown[]) {
  if (typeof script === 'object' && script !== null && 'name' in script && 'content' in script && typeof script.content === 'string') {
    BULLMQ_SCRIPTS.set(createHash('sha1').update(script.content).digest('hex'), String(script.name));
  }
}

/** The command without its sender: `evalsha moveToActive`, `bzpopmin marker`, `xadd`. */
export function commandName(args: readonly string[]): string {
  const command = (args[0] ?? '?').toLowerCase();
  let detail = '';
  if (command === 'evalsha' || command === 'eval') {
    const known = BULLMQ_SCRIPTS.get(args[1] ?? '');
    detail = ` ${known ?? (args[3] ?? '').split(':').slice(-2).join(':')}`;
  } else if (command === 'brpop' || command === 'bzpopmin') {
    detail = ` ${(args[1] ?? '').split(':').at(-2) ?? ''}`;
  }
  return `${command}${detail}`;
}

/** A short name for a command and who sent it: `ca-service evalsha moveToActive`. */
export function stepName(owner: string, args: readonly string[]): string {
  return `${owner} ${commandName(args)}`;
}
