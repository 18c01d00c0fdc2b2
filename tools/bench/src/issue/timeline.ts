// Reads what timeline-probe.ts wrote in each app and lays it over the requests' windows: per step
// (an app's write, its read of a reply, a BullMQ mark; a repeat as `#2`) the median time since
// the request left the client, for the steps seen in at least half of the requests.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { median } from '../measure.js';
import type { TimelineEvent, TimelineFile } from './timeline-probe.js';

interface Placed {
  readonly atUs: number;
  readonly step: string;
}


/** Names each event; a read is named by the command last written on its connection (the reply it carries). */
function named(file: TimelineFile): Placed[] {
  const lastWrite = new Map<number, string>();
  const out: Placed[] = [];
  for (const [atUs, kind, connection, detail] of file.events as readonly TimelineEvent[]) {
    let step: string;
    if (kind === 'w') {
      const what = detail.startsWith('HTTP/1.1') ? 'http answer' : detail;
      // Node writes an HTTP answer's head and body separately: one step per request.
      if (what === '' || (what === 'http answer' && lastWrite.get(connection) === what)) continue;
      lastWrite.set(connection, what);
      step = `${file.app} > ${what}`;
    } else if (kind === 'r') {
      step = `${file.app} < ${lastWrite.get(connection) ?? 'read'}`;
    } else if (kind === 'req') {
      // A kept-alive connection answers request after request: the next answer is a step again.
      lastWrite.set(connection, 'http request');
      step = `${file.app} http request`;
    } else {
      // A mark's job id, item count or pause (pipeline.ts reads them) would make every request's step its own.
      step = `${file.app} ${detail.split(' ')[0] ?? detail}`;
    }
    out.push({ atUs, step });
  }
  return out;
}

export function timelineSteps(dir: string, windows: ReadonlyArray<readonly [number, number]>) {
  const all: Placed[] = [];
  for (const name of readdirSync(dir)) {
    const file = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as TimelineFile;
    if (file.app === 'rotation-worker') continue;
    all.push(...named(file));
  }
  all.sort((a, b) => a.atUs - b.atUs);
  const perStep = new Map<string, number[]>();
  let from = 0;
  for (const [startUs, endUs] of windows) {
    while (from < all.length && (all[from]?.atUs ?? 0) < startUs) from += 1;
    const count = new Map<string, number>();
    for (let i = from; i < all.length; i++) {
      const event = all[i];
      if (event === undefined || event.atUs > endUs) break;
      const n = (count.get(event.step) ?? 0) + 1;
      count.set(event.step, n);
      const step = n === 1 ? event.step : `${event.step} #${n}`;
      const list = perStep.get(step) ?? [];
      list.push((event.atUs - startUs) / 1000);
      perStep.set(step, list);
    }
  }
  const steps = [...perStep]
    .filter(([, at]) => at.length >= windows.length / 2)
    .map(([step, at]) => ({ step, seen_in: at.length, median_ms: Number(median(at).toFixed(3)) }))
    .sort((a, b) => a.median_ms - b.median_ms);
  return {
    median_request_ms: Number((median(windows.map(([s, e]) => e - s)) / 1000).toFixed(3)),
    steps,
  };
}
