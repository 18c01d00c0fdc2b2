// The staged root rotation against the running system (Redis, ca-service, issuer-gateway,
// rotation-worker as processes), proven by live traffic: two workloads, each with an agent, a
// TLS server and a client, do mutual TLS continuously with the agents' files while
// `fsm-certs ca rotate --auto --propagation 5s --spread 5s` runs prepare → activate → retire.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertEvent, RootRotationStatus } from '@fsm-certs/client';
import { opensslVerify } from '@fsm-certs/testing';
import { fingerprintSha256, splitPemBundle } from '@fsm-certs/x509';
import { AgentFixtures, onDisk, WORKLOAD_TOKENS_ENV } from './agent-fixtures.js';
import { eventually, startHarness, type Harness } from './harness.js';
import { startTraffic, startWorkload, stopWorkload, type Workload } from './mtls-traffic.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI from source, as a separate process (async: the stack keeps running meanwhile). */
function cli(h: Harness, args: readonly string[]): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', 'apps/cli/src/main.ts', ...args, '--server', h.stack.gatewayUrl, '--token', h.stack.adminToken], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** Every announcement from now on, collected in the background. */
function collectEvents(h: Harness): { events: CertEvent[]; subscribed: Promise<void>; stop: () => void } {
  const events: CertEvent[] = [];
  const controller = new AbortController();
  let markSubscribed: () => void = () => undefined;
  const subscribed = new Promise<void>((resolve) => (markSubscribed = resolve));
  void (async () => {
    for await (const event of h.client.events({ signal: controller.signal, onSubscribed: markSubscribed })) {
      if (event.event !== undefined) events.push(event.event);
    }
  })().catch(() => undefined);
  return { events, subscribed, stop: () => controller.abort() };
}

function stageReached(events: readonly CertEvent[], stage: string): boolean {
  return events.some((e) => e.kind === 'root-rotation-stage' && e.stage === stage);
}

function rootsIn(pem: string): string[] {
  return splitPemBundle(pem).map((block) => fingerprintSha256(block));
}

describe('staged root rotation under live mutual-TLS traffic', () => {
  let h: Harness;
  let agents: AgentFixtures;
  const workloads: Workload[] = [];

  beforeAll(async () => {
    h = await startHarness({ env: { GATEWAY_TOKENS: WORKLOAD_TOKENS_ENV, CA_ROTATION_TICK: '250ms' } });
    agents = new AgentFixtures(h.stack.gatewayUrl);
  }, 120_000);
  afterAll(async () => {
    for (const w of workloads) await stopWorkload(w);
    await agents?.close();
    await h?.close();
  });

  it('prepares, activates and retires with --auto --propagation 5s --spread 5s: zero failed handshakes, every leaf on the new root, the old root gone from every bundle', async () => {
    const before: RootRotationStatus = await eventually(() => h.client.rootRotation().catch(() => undefined), 30_000, 'the first rotation status');
    expect(before.stage).toBe('idle');
    const oldRoot = before.roots.find((r) => r.role === 'current');
    if (oldRoot === undefined) throw new Error('no current root in the status');

    for (const [name, keyMode] of [['web', 'csr'], ['buyer', 'server']] as const) {
      const a = await agents.start({ commonName: `${name}.bookstore.cluster.local`, keyMode });
      await eventually(() => onDisk(a.dir), 30_000, `the ${name} agent's first files`);
      await eventually(async () => (a.agent.health().events.connected ? true : undefined), 30_000, `the ${name} agent's event stream`);
      workloads.push(await startWorkload(name, a));
    }
    const [web, buyer] = workloads;
    if (web === undefined || buyer === undefined) throw new Error('workloads missing');

    const traffic = startTraffic([web, buyer], { perSecond: 20, maxHandshakes: 20 * 300 });
    const announcements = collectEvents(h);
    try {
      await announcements.subscribed;
      await eventually(async () => (traffic.ok() >= 20 ? true : undefined), 30_000, 'traffic before the rotation');

      const started = await cli(h, ['ca', 'rotate', '--auto', '--propagation', '5s', '--spread', '5s']);
      expect(started.stderr).toBe('');
      expect(started.code).toBe(0);
      expect(started.stdout).toMatch(/^stage: prepared \(rotation \S+\), auto; propagation 5s, spread 5s; since /);
      const prepared = await h.client.rootRotation();
      const newRoot = prepared.roots.find((r) => r.role === 'new');
      expect(prepared.roots.find((r) => r.role === 'old')).toMatchObject({ fingerprint: oldRoot.fingerprint, signing: true, trusted: true });
      expect(newRoot).toMatchObject({ signing: false, trusted: true, liveLeaves: 0 });
      if (newRoot === undefined) throw new Error('no new root');

      // Every agent holds both roots before the new one signs (propagation), and keeps traffic going.
      for (const w of workloads) {
        await eventually(async () => ((w.agent.agent.health().trustBundle?.roots ?? []).includes(newRoot.fingerprint) ? true : undefined), 5_000, `${w.name}'s agent to fetch the new root`);
      }
      traffic.mark('prepared');
      await eventually(async () => (stageReached(announcements.events, 'activated') ? true : undefined), 60_000, 'the activation');
      expect(traffic.okSince('prepared')).toBeGreaterThan(0);
      traffic.mark('activated');
      await eventually(async () => (stageReached(announcements.events, 'retired') ? true : undefined), 90_000, 'the old root to retire');
      expect(traffic.okSince('activated')).toBeGreaterThan(0);
      traffic.mark('retired');
      // Every agent takes the bundle without the old root; traffic goes on with it.
      for (const w of workloads) {
        await eventually(async () => {
          const roots = w.agent.agent.health().trustBundle?.roots ?? [];
          return roots.length === 1 && roots[0] === newRoot.fingerprint ? true : undefined;
        }, 30_000, `${w.name}'s agent to drop the old root`);
      }
      const afterRetire = traffic.ok();
      await eventually(async () => (traffic.ok() >= afterRetire + 20 ? true : undefined), 30_000, 'traffic after the retirement');
    } finally {
      await traffic.stop();
      announcements.stop();
    }

    console.info(`[root-rotation] handshakes: ${traffic.ok()} ok, ${traffic.failures.length} failed; reloads web ${web.reloads}, buyer ${buyer.reloads}`);
    expect(traffic.failures).toEqual([]);
    expect(traffic.ok()).toBeGreaterThan(100);

    const stages = announcements.events.filter((e) => e.kind === 'root-rotation-stage').map((e) => (e.kind === 'root-rotation-stage' ? `${e.stage}${e.auto === true ? ' (auto)' : ''}` : ''));
    expect(stages).toEqual(['prepared', 'activated (auto)', 'retired (auto)']);
    expect(announcements.events.filter((e) => e.kind === 'trust-bundle-changed').map((e) => (e.kind === 'trust-bundle-changed' ? e.trustedCaCount : 0))).toEqual([2, 2, 1]);

    const status = await h.client.rootRotation();
    expect(status.stage).toBe('retired');
    const newRootPem = status.roots[0]?.certificate ?? '';
    expect(status.roots.map((r) => [r.role, r.fingerprint])).toEqual([['current', fingerprintSha256(newRootPem)]]);
    expect(fingerprintSha256(newRootPem)).not.toBe(oldRoot.fingerprint);
    expect(status.otherLiveLeaves).toBe(0);

    expect(rootsIn(await h.client.trustBundlePem())).toEqual([fingerprintSha256(newRootPem)]);
    const rootFile = path.join(agents.tempDir(), 'new-root.pem');
    writeFileSync(rootFile, newRootPem);
    for (const w of workloads) {
      const files = await onDisk(w.agent.dir);
      expect(rootsIn(files?.ca ?? '')).toEqual([fingerprintSha256(newRootPem)]);
      expect(opensslVerify(files?.cert ?? '', newRootPem).output).toMatch(/: OK\s*$/);
    }
    const { items } = await h.client.list({ limit: 1000 });
    expect(items.length).toBeGreaterThanOrEqual(2);
    for (const item of items) {
      expect(opensslVerify(item.certificate, newRootPem).output, item.commonName).toMatch(/: OK\s*$/);
      expect(fingerprintSha256(item.issuingCA)).toBe(fingerprintSha256(newRootPem));
    }
  }, 240_000);
});
