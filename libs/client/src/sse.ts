// A minimal Server-Sent Events reader over fetch: enough for the gateway's /v1/events
// (id/event/data fields, comments handed to onComment), resuming with Last-Event-ID.
import { STREAM_RESET_EVENT, streamResetSchema, type StreamReset } from '@fsm-certs/api';
import { certEventSchema, type GatewayEvent } from './schemas.js';

export { STREAM_RESET_EVENT, streamResetSchema, type StreamReset };

export interface ReadEventStreamOptions {
  /** Comment lines (`: text`), e.g. the gateway's `subscribed` and `keep-alive`. */
  readonly onComment?: (text: string) => void;
}

/**
 * The reset an event announces (`event: reset`: events were trimmed before this client got them;
 * re-list), or undefined for any other event or a reset that does not parse.
 */
export function streamResetOf(event: GatewayEvent): StreamReset | undefined {
  if (event.type !== STREAM_RESET_EVENT) return undefined;
  const parsed = streamResetSchema.safeParse(event.data);
  return parsed.success ? parsed.data : undefined;
}

export async function* readEventStream(body: ReadableStream<Uint8Array>, options: ReadEventStreamOptions = {}): AsyncGenerator<GatewayEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  // The last event id persists across events, as in EventSource: an event without `id:` (a
  // reset) keeps the one before it, so resuming with it stays correct.
  let id = '';
  let type = 'message';
  let data: string[] = [];
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
      if (line === '') {
        if (data.length > 0) {
          const text = data.join('\n');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: hand over the text as it is
          }
          const event = certEventSchema.safeParse(parsed);
          yield { id, type, data: parsed, event: event.success ? event.data : undefined };
        }
        type = 'message';
        data = [];
        continue;
      }
      if (line.startsWith(':')) {
        options.onComment?.(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
  }
}
