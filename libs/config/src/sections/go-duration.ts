// Durations in config use Go syntax like FSM's ("24h", "1h30m", "1.5h"), read by core's one
// parser. The *Ms fields each section derives are whole milliseconds (core's parseDurationMs),
// because they flow into job payloads and records whose schemas require integers.
import { z } from 'zod';
import { parseDurationMs } from '@fsm-certs/core';

function wholeMsOrUndefined(value: string): number | undefined {
  try {
    return parseDurationMs(value);
  } catch {
    return undefined;
  }
}

/** A Go duration string within [minimumMs, maximumMs]; read its milliseconds with parseDurationMs. */
export function goDuration(description: string, minimumMs: number, maximumMs = Number.POSITIVE_INFINITY) {
  return z.string().refine(
    (value) => {
      const ms = wholeMsOrUndefined(value);
      return ms !== undefined && ms >= minimumMs && ms <= maximumMs;
    },
    { error: description },
  );
}
