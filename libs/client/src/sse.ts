// A minimal Server-Sent Events reader over fetch: enough for the gateway's /v1/events
// (id/event/data fields, comments ignored), resuming with Last-Event-ID.
import { certEventSchema, type GatewayEvent } from './schemas.js';

export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<GatewayEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
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
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
  }
}
