// Reading Server-Sent Events from a fetch Response, block by block, as a client would.
export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** Reads raw SSE blocks as they come; `until` returns every block so far once `enough` holds. */
export function sseReader(res: Response): { until(enough: (messages: SseMessage[]) => boolean): Promise<SseMessage[]>; close(): Promise<void> } {
  const reader = res.body?.getReader();
  if (reader === undefined) throw new Error('no body');
  const decoder = new TextDecoder();
  const messages: SseMessage[] = [];
  let buffer = '';
  return {
    async until(enough) {
      while (!enough(messages)) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: SseMessage = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) message.comment = line.slice(1).trim();
            else if (line.startsWith('id: ')) message.id = line.slice(4);
            else if (line.startsWith('event: ')) message.event = line.slice(7);
            else if (line.startsWith('data: ')) message.data = line.slice(6);
          }
          messages.push(message);
          end = buffer.indexOf('\n\n');
        }
      }
      return messages;
    },
    close: () => reader.cancel(),
  };
}

/** Reads raw SSE blocks until `enough` says stop. */
export async function readSse(res: Response, enough: (messages: SseMessage[]) => boolean): Promise<SseMessage[]> {
  const sse = sseReader(res);
  const messages = await sse.until(enough);
  await sse.close();
  return messages;
}

