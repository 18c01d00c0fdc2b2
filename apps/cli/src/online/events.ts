// fsm-certs events [--from ID] [--count N]: follows GET /v1/events, one line per announcement,
// until Ctrl-C. A dropped stream is resumed from the last id seen, so no event is skipped; when
// the gateway's bounded stream no longer holds what came after it, the gateway says so with a
// reset, printed as its own line (and explained on stderr) before the stream goes on.
import type { GatewayEvent, StreamReset } from '@fsm-certs/client';
import { GatewayRequestError, streamResetOf } from '@fsm-certs/client';
import { z } from 'zod';
import { CliInputError } from '../errors.js';
import { asUnreachable, type Gateway } from './gateway.js';

// Lenient on purpose: a kind added by a newer gateway still prints its id and type.
const eventDataSchema = z.object({
  commonName: z.string().optional(),
  serialNumber: z.string().optional(),
  previousSerialNumber: z.string().optional(),
  reason: z.string().optional(),
  notAfter: z.string().optional(),
  issuerId: z.string().optional(),
  trustedCaCount: z.number().optional(),
  rootNotAfter: z.string().optional(),
  stage: z.string().optional(),
  detail: z.string().optional(),
});

const KIND_WIDTH = 'trust-bundle-changed'.length;

/** `<id>  <type>  <CN or ->  serial=<serial> ...`: greppable, one event per line. */
export function formatEvent(event: GatewayEvent): string {
  const parsed = eventDataSchema.safeParse(event.data);
  const data = parsed.success ? parsed.data : {};
  const extra: string[] = [];
  if (data.serialNumber !== undefined) extra.push(`serial=${data.serialNumber}`);
  if (data.previousSerialNumber !== undefined) extra.push(`previous=${data.previousSerialNumber}`);
  if (data.reason !== undefined) extra.push(`reason=${data.reason}`);
  if (data.notAfter !== undefined) extra.push(`notAfter=${data.notAfter}`);
  if (data.issuerId !== undefined) extra.push(`issuer=${data.issuerId}`);
  if (data.trustedCaCount !== undefined) extra.push(`roots=${data.trustedCaCount}`);
  if (data.rootNotAfter !== undefined) extra.push(`rootNotAfter=${data.rootNotAfter}`);
  if (data.stage !== undefined) extra.push(`stage=${data.stage}`);
  if (data.detail !== undefined) extra.push(`detail=${JSON.stringify(data.detail)}`);
  return [event.id || '-', event.type.padEnd(KIND_WIDTH), data.commonName ?? '-', ...extra].join('  ');
}

/** `-  reset  -  reason=trimmed  after=<id>  oldest=<id>`: in the column layout of formatEvent. */
export function formatReset(reset: StreamReset): string {
  return ['-', 'reset'.padEnd(KIND_WIDTH), '-', `reason=${reset.reason}`, `after=${reset.lastEventId}`, `oldest=${reset.oldestId}`].join('  ');
}

export function resetNote(reset: StreamReset): string {
  return (
    `events after ${reset.lastEventId} were trimmed from the gateway's stream before they could be shown; continuing with ${reset.oldestId}. ` +
    'Re-read the inventory (fsm-certs cert list) for what changed meanwhile'
  );
}

export function countOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliInputError(`--count ${JSON.stringify(value)} must be a whole number of at least 1`);
  return n;
}

export interface EventsOptions {
  readonly from?: string | undefined;
  readonly count?: number | undefined;
  readonly signal: AbortSignal;
  /** Pause before reconnecting a dropped stream; default 2 s (what the gateway's `retry:` says). */
  readonly reconnectDelayMs?: number;
}

export async function followEvents(gateway: Gateway, options: EventsOptions, out: (line: string) => void, note: (line: string) => void): Promise<void> {
  const { signal } = options;
  // Reachability and auth first, so a wrong URL or token fails at once with its exit code
  // instead of turning into an endless reconnect loop.
  await gateway.call(async (client) => (await client.request('GET', '/healthz')).text());
  note(`following events at ${gateway.connection.server}/v1/events${options.from === undefined ? '' : ` after ${options.from}`} (Ctrl-C stops)`);
  let lastEventId = options.from;
  let seen = 0;
  while (!signal.aborted) {
    try {
      for await (const event of gateway.client.events({ signal, ...(lastEventId === undefined ? {} : { lastEventId }) })) {
        const reset = streamResetOf(event);
        if (reset !== undefined) {
          // Not an announcement: it neither moves the resume point nor counts toward --count.
          out(formatReset(reset));
          note(resetNote(reset));
          continue;
        }
        out(formatEvent(event));
        if (event.id !== '') lastEventId = event.id;
        seen += 1;
        if (options.count !== undefined && seen >= options.count) return;
      }
      if (!signal.aborted) note('the gateway ended the stream; reconnecting');
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof GatewayRequestError) throw error;
      const unreachable = asUnreachable(error, gateway.connection);
      if (unreachable === undefined) throw error;
      note(`connection lost (${unreachable.message}); reconnecting`);
    }
    if (signal.aborted) return;
    await sleep(options.reconnectDelayMs ?? 2_000, signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
