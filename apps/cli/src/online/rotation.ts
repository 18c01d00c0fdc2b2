// fsm-certs ca rotate / ca rotation status|activate|retire|pause|resume|rollback: the staged root
// rotation through POST/GET /v1/ca/rotation. The ca-service does the work; this prints the status.
import type { RootRotationStatus } from '@fsm-certs/client';
import { formatDuration } from '@fsm-certs/core';
import { durationOption } from '../options.js';
import type { Gateway } from './gateway.js';

type Print = (line: string) => void;

function days(fromMs: number, iso: string): string {
  return `${Math.floor((Date.parse(iso) - fromMs) / 86_400_000)} days`;
}

/** The status as an operator reads it: one line for the stage, one per root, then what it waits for. */
export function formatRotationStatus(status: RootRotationStatus, now: Date): string[] {
  const flags = [status.auto ? 'auto' : 'manual', ...(status.paused ? ['paused'] : [])];
  const lines = [
    `stage: ${status.stage}${status.rotationId === undefined ? '' : ` (rotation ${status.rotationId})`}, ${flags.join(', ')}; ` +
      `propagation ${formatDuration(status.propagationSeconds * 1000)}, spread ${formatDuration(status.spreadSeconds * 1000)}` +
      `${status.stageSince === undefined ? '' : `; since ${status.stageSince}`}`,
  ];
  for (const root of status.roots) {
    const what = [root.signing ? 'signing' : undefined, root.trusted ? 'trusted' : undefined].filter((w) => w !== undefined).join(', ');
    lines.push(
      `${root.role} root ${root.fingerprint.slice(0, 16)}… ${root.subject}: ${what}; expires ${root.notAfter} (${days(now.getTime(), root.notAfter)}); ${root.liveLeaves} live leaf certificate${root.liveLeaves === 1 ? '' : 's'}`,
    );
  }
  if (status.otherLiveLeaves > 0) lines.push(`${status.otherLiveLeaves} live leaf certificates chain to neither root`);
  if (status.waitingFor !== undefined) lines.push(`waiting for: ${status.waitingFor}`);
  if (status.nextStepAt !== undefined) lines.push(`next step at: ${status.nextStepAt}`);
  return lines;
}

function show(status: RootRotationStatus, json: boolean, now: Date, print: Print): void {
  if (json) print(JSON.stringify(status, null, 2));
  else for (const line of formatRotationStatus(status, now)) print(line);
}

export async function rootRotationStart(
  gateway: Gateway,
  options: { auto: boolean; propagation: string | undefined; spread: string | undefined; json: boolean },
  now: Date,
  print: Print,
): Promise<void> {
  // Checked here so a typo is a usage error (exit 2) before anything reaches the gateway.
  if (options.propagation !== undefined) durationOption('--propagation', options.propagation, '10m');
  if (options.spread !== undefined) durationOption('--spread', options.spread, '1h');
  const status = await gateway.call((client) =>
    client.changeRootRotation({
      action: 'start',
      ...(options.auto ? { auto: true } : {}),
      ...(options.propagation === undefined ? {} : { propagation: options.propagation }),
      ...(options.spread === undefined ? {} : { spread: options.spread }),
    }),
  );
  show(status, options.json, now, print);
  if (!options.json && !status.auto) print('next: fsm-certs ca rotation activate (after the propagation period), then fsm-certs ca rotation retire');
}

export async function rootRotationStatus(gateway: Gateway, options: { json: boolean }, now: Date, print: Print): Promise<void> {
  show(await gateway.call((client) => client.rootRotation()), options.json, now, print);
}

export async function rootRotationAction(
  gateway: Gateway,
  options: { action: 'activate' | 'retire' | 'pause' | 'resume' | 'rollback'; force: boolean; json: boolean },
  now: Date,
  print: Print,
): Promise<void> {
  const status = await gateway.call((client) => client.changeRootRotation({ action: options.action, ...(options.force ? { force: true } : {}) }));
  show(status, options.json, now, print);
}
