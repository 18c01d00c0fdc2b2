// The timeline's reading of what the probe wrote: steps named by what they carry, placed per request.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { timelineSteps } from './timeline.js';
import type { TimelineEvent, TimelineFile } from './timeline-probe.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function write(files: readonly TimelineFile[]): string {
  dir = mkdtempSync(path.join(tmpdir(), 'timeline-test-'));
  for (const file of files) writeFileSync(path.join(dir, `${file.pid}.json`), JSON.stringify(file));
  return dir;
}

/** One lone request's events at `t0` µs: the gateway adds, the ca-service pops, takes and commits. */
function request(t0: number, commitAfterUs: number): { gateway: TimelineEvent[]; ca: TimelineEvent[] } {
  return {
    gateway: [
      [t0 + 100, 'req', 8080, 'POST /v1/certificates'],
      [t0 + 300, 'w', 5001, 'evalsha 5ab432e8 issue:wait'],
      [t0 + 3_000, 'w', 8080, 'HTTP/1.1 201 Created'],
      // The body after the head: the same answer, not a step of its own.
      [t0 + 3_010, 'w', 8080, 'HTTP/1.1 201 Created'],
    ],
    ca: [
      [t0 + 500, 'r', 6001, '*3|$24|{fsm-certs}:issue:marker'],
      [t0 + 600, 'w', 6002, 'evalsha d96ca626 issue:wait'],
      [t0 + 800, 'r', 6002, '*4|*18|'],
      [t0 + 800 + commitAfterUs, 'w', 6003, 'evalsha 44031c7b inv:renew'],
      [t0 + 900 + commitAfterUs, 'm', 0, 'worker.block>'],
      [t0 + 950 + commitAfterUs, 'w', 6001, 'bzpopmin issue:marker'],
    ],
  };
}

describe('timelineSteps', () => {
  it('names each read by the command it answers and gives each step its median time since the request left', () => {
    const windows: Array<readonly [number, number]> = [];
    const gateway: TimelineEvent[] = [];
    // The blocking pop written before the first request: its reply is still named by it.
    const ca: TimelineEvent[] = [[500, 'w', 6001, 'bzpopmin issue:marker']];
    [1_000, 2_000, 3_000].forEach((commitAfterUs, i) => {
      const t0 = 10_000 * (i + 1);
      const events = request(t0, commitAfterUs);
      gateway.push(...events.gateway);
      ca.push(...events.ca);
      windows.push([t0, t0 + 9_000]);
    });
    // Outside every window: the rotation worker's and anything after the last request are not counted.
    const rotation: TimelineFile = { pid: 3, app: 'rotation-worker', events: [[10_200, 'w', 7001, 'xread BLOCK']] };
    const result = timelineSteps(write([{ pid: 1, app: 'issuer-gateway', events: gateway }, { pid: 2, app: 'ca-service', events: ca }, rotation]), windows);
    expect(result.median_request_ms).toBe(9);
    expect(result.steps.map((s) => s.step)).toEqual([
      'issuer-gateway http request',
      'issuer-gateway > evalsha 5ab432e8 issue:wait',
      'ca-service < bzpopmin issue:marker',
      'ca-service > evalsha d96ca626 issue:wait',
      'ca-service < evalsha d96ca626 issue:wait',
      'ca-service > evalsha 44031c7b inv:renew',
      'ca-service worker.block>',
      'ca-service > bzpopmin issue:marker',
      'issuer-gateway > http answer',
    ]);
    const commit = result.steps.find((s) => s.step === 'ca-service > evalsha 44031c7b inv:renew');
    expect(commit).toEqual({ step: 'ca-service > evalsha 44031c7b inv:renew', seen_in: 3, median_ms: 2.8 });
  });
});
