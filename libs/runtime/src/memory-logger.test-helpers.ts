// A logger whose lines are kept in memory (and can be asserted on) instead of printed.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from './logger.js';

export function memoryStream(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0));
      done();
    },
  });
  return { stream, lines };
}

export function memoryLogger(service = 'test'): { logger: Logger; lines: string[] } {
  const { stream, lines } = memoryStream();
  return { logger: createLogger({ service, level: 'debug', destination: stream }), lines };
}
