// The staged root rotation against the running system (Redis, two ca-service replicas,
// issuer-gateway, rotation-worker as processes), proven by live traffic: two workloads, each with
// an agent, a TLS server and a client, do mutual TLS continuously with the agents' files while
// `fsm-certs ca rotate --auto --propagation 5s --spread 5s` runs prepare → activate → retire; then
// again with a ca-service replica killed (kill -9) during activate; then a rollback after activate.
// The three rotations run one after the other on the same system and workloads.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertEvent, RootRotationStatus, RotationRoot } from '@fsm-certs/client';
import { opensslVerify } from '@fsm-certs/testing';
import { RotationStatusStore } from '@fsm-certs/queue';
import { fingerprintSha256, splitPemBundle } from '@fsm-certs/x509';
import { AgentFixtures, onDisk, WORKLOAD_TOKENS_ENV } from './agent-fixtures.js';
import { eventually, startHarness, type Harness } from './harness.js';
import { startTraffic, startWorkload, stopWorkload, type Traffic, type Workload } from './mtls-traffic.js';

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

/** Every announcement from now on, collected in the background; reconnects (resuming by id) across gateway restarts. */
function collectEvents(h: Harness): { events: CertEvent[]; subscribed: Promise<void>; stop: () => void } {
  const events: CertEvent[] = [];
  const controller = new AbortController();
  let markSubscribed: () => void = () => undefined;
  const subscribed = new Promise<void>((resolve) => (markSubscribed = resolve));
  let lastEventId: string | undefined;
  void (async () => {
    // Bounded in count; each reconnection waits for the gateway to be ready again.
    for (let attempt = 0; attempt < 100 && !controller.signal.aborted; attempt += 1) {
      try {
        for await (const event of h.client.events({ signal: controller.signal, onSubscribed: markSubscribed, ...(lastEventId === undefined ? {} : { lastEventId }) })) {
          if (event.id !== '') lastEventId = event.id;
          if (event.event !== undefined) events.push(event.event);
        }
      } catch {
        // The gateway went away: reconnect once it is back.
      }
      if (!controller.signal.aborted) await h.stack.waitReady(120_000).catch(() => undefined);
    }
  })();
  return { events, subscribed, stop: () => controller.abort() };
}

function stageReached(events: readonly CertEvent[], stage: string): boolean {
  return events.some((e) => e.kind === 'root-rotation-stage' && e.stage === stage);
}

function rootsIn(pem: string): string[] {
  return splitPemBundle(pem).map((block) => fingerprintSha256(block));
}

async function waitFor(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  await eventually(async () => (probe() ? true : undefined), timeoutMs, what);
}

function stagesOf(events: readonly CertEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'root-rotation-stage' ? [`${e.stage}${e.auto === true ? ' (auto)' : ''}`] : []));
}

describe('staged root rotation under live mutual-TLS traffic', () => {
  let h: Harness;
  let agents: AgentFixtures;
  const workloads: Workload[] = [];
  let web: Workload;
  let buyer: Workload;

  beforeAll(async () => {
    h = await startHarness({ caServices: 2, env: { GATEWAY_TOKENS: WORKLOAD_TOKENS_ENV, CA_ROTATION_TICK: '250ms' } });
    agents = new AgentFixtures(h.stack.gatewayUrl);
    for (const [name, keyMode] of [['web', 'csr'], ['buyer', 'server']] as const) {
      const a = await agents.start({ commonName: `${name}.bookstore.cluster.local`, keyMode });
      await eventually(() => onDisk(a.dir), 30_000, `the ${name} agent's first files`);
      await eventually(async () => (a.agent.health().events.connected ? true : undefined), 30_000, `the ${name} agent's event stream`);
      workloads.push(await startWorkload(name, a));
    }
    [web, buyer] = workloads as [Workload, Workload];
  }, 180_000);
  afterAll(async () => {
    for (const w of workloads) await stopWorkload(w);
    await agents?.close();
    await h?.close();
  });

  /** Waits until every agent's ca.pem holds exactly these roots. */
  async function agentsTrustExactly(fingerprints: readonly string[]): Promise<void> {
    for (const w of workloads) {
      await eventually(async () => {
        const roots = [...(w.agent.agent.health().trustBundle?.roots ?? [])].sort();
        return JSON.stringify(roots) === JSON.stringify([...fingerprints].sort()) ? true : undefined;
      }, 30_000, `${w.name}'s agent to trust exactly ${fingerprints.map((f) => f.slice(0, 12)).join(', ')}`);
    }
  }

  /** Every agent's files, every inventory leaf and GET /v1/ca end on `root` alone. */
  async function expectEverythingOn(root: RotationRoot): Promise<void> {
    expect(rootsIn(await h.client.trustBundlePem())).toEqual([root.fingerprint]);
    for (const w of workloads) {
      const files = await onDisk(w.agent.dir);
      expect(rootsIn(files?.ca ?? '')).toEqual([root.fingerprint]);
      expect(opensslVerify(files?.cert ?? '', root.certificate).output, w.name).toMatch(/: OK\s*$/);
    }
    const { items } = await h.client.list({ limit: 1000 });
    expect(items.length).toBeGreaterThanOrEqual(2);
    for (const item of items) {
      expect(opensslVerify(item.certificate, root.certificate).output, item.commonName).toMatch(/: OK\s*$/);
      expect(fingerprintSha256(item.issuingCA)).toBe(root.fingerprint);
    }
  }

  /** Runs `during` with traffic flowing and announcements collected; checks no handshake failed. */
  async function underTraffic(label: string, during: (ctx: { traffic: Traffic; events: CertEvent[] }) => Promise<void>): Promise<{ ok: number; events: CertEvent[] }> {
    const traffic = startTraffic([web, buyer], { perSecond: 20, maxHandshakes: 20 * 300 });
    const announcements = collectEvents(h);
    try {
      await announcements.subscribed;
      await waitFor('traffic before the rotation', () => traffic.ok() >= 20, 30_000);
      await during({ traffic, events: announcements.events });
      const before = traffic.ok();
      await waitFor('traffic after the last stage', () => traffic.ok() >= before + 20, 30_000);
    } finally {
      await traffic.stop();
      announcements.stop();
    }
    console.info(`[root-rotation] ${label}: ${traffic.ok()} handshakes ok, ${traffic.failures.length} failed; reloads so far web ${web.reloads}, buyer ${buyer.reloads}`);
    expect(traffic.failures).toEqual([]);
    expect(traffic.ok()).toBeGreaterThan(100);
    return { ok: traffic.ok(), events: announcements.events };
  }

  /** Starts a rotation with the CLI (auto: on timers); returns the old and new roots. */
  async function startRotation(auto = true): Promise<{ oldRoot: RotationRoot; newRoot: RotationRoot }> {
    const started = await cli(h, ['ca', 'rotate', ...(auto ? ['--auto'] : []), '--propagation', '5s', '--spread', '5s']);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(new RegExp(`^stage: prepared \\(rotation \\S+\\), ${auto ? 'auto' : 'manual'}; propagation 5s, spread 5s; since `));
    const prepared = await h.client.rootRotation();
    const oldRoot = prepared.roots.find((r) => r.role === 'old');
    const newRoot = prepared.roots.find((r) => r.role === 'new');
    expect(oldRoot).toMatchObject({ signing: true, trusted: true });
    expect(newRoot).toMatchObject({ signing: false, trusted: true, liveLeaves: 0 });
    if (oldRoot === undefined || newRoot === undefined) throw new Error('the prepared status lacks a root');
    // Every agent holds both roots before the new one signs: the propagation period is for this.
    await agentsTrustExactly([oldRoot.fingerprint, newRoot.fingerprint]);
    return { oldRoot, newRoot };
  }

  /** Runs `fsm-certs ca rotation <action>` until its condition holds (ROTATION_CONFLICT meanwhile). */
  async function whenAllowed(action: string, what: string): Promise<CliRun> {
    return eventually(async () => {
      const run = await cli(h, ['ca', 'rotation', action]);
      if (run.code === 0) return run;
      expect(run.stderr).toMatch(/^fsm-certs: ROTATION_CONFLICT: Cannot /);
      return undefined;
    }, 60_000, what, 1_000);
  }

  it('prepares, activates and retires with --auto --propagation 5s --spread 5s: zero failed handshakes, every leaf on the new root, the old root gone from every bundle', async () => {
    const before: RootRotationStatus = await eventually(() => h.client.rootRotation().catch(() => undefined), 30_000, 'the first rotation status');
    expect(before.stage).toBe('idle');
    let newRoot: RotationRoot | undefined;
    const { events } = await underTraffic('rotation', async ({ traffic, events }) => {
      const roots = await startRotation();
      expect(roots.oldRoot.fingerprint).toBe(before.roots[0]?.fingerprint);
      newRoot = roots.newRoot;
      traffic.mark('prepared');
      await waitFor('the activation', () => stageReached(events, 'activated'), 60_000);
      expect(traffic.okSince('prepared')).toBeGreaterThan(0);
      traffic.mark('activated');
      await waitFor('the old root to retire', () => stageReached(events, 'retired'), 90_000);
      expect(traffic.okSince('activated')).toBeGreaterThan(0);
      await agentsTrustExactly([roots.newRoot.fingerprint]);
    });
    expect(stagesOf(events)).toEqual(['prepared', 'activated (auto)', 'retired (auto)']);
    expect(events.flatMap((e) => (e.kind === 'trust-bundle-changed' ? [e.trustedCaCount] : []))).toEqual([2, 2, 1]);
    const status = await h.client.rootRotation();
    expect(status).toMatchObject({ stage: 'retired', otherLiveLeaves: 0 });
    expect(status.roots.map((r) => [r.role, r.fingerprint])).toEqual([['current', newRoot?.fingerprint]]);
    if (newRoot === undefined) throw new Error('no new root');
    await expectEverythingOn(newRoot);
    // Each stage change is in the audit trail once: who started it, and the automatic steps.
    const audited = (await h.client.audit({ outcome: 'root-rotation-stage', limit: 100 })).items;
    expect(audited.map((r) => [r.operation, r.caller === null ? 'auto' : 'caller'])).toEqual([
      ['rootRotation.start', 'caller'],
      ['rootRotation.activate', 'auto'],
      ['rootRotation.retire', 'auto'],
    ]);
    expect(audited.at(-1)?.issuerId).toBe(newRoot.fingerprint);
  }, 240_000);

  it('completes the rotation when one of two ca-service replicas is killed (kill -9) during activate: zero failed handshakes', async () => {
    let newRoot: RotationRoot | undefined;
    const victim = h.stack.app('ca-service-2');
    const { events } = await underTraffic('rotation with kill -9', async ({ events }) => {
      newRoot = (await startRotation()).newRoot;
      await waitFor('the activation', () => stageReached(events, 'activated'), 60_000);
      await victim.kill();
      // Its replacement starts at once, as a Deployment's would; the rotation must not care.
      victim.restart();
      await waitFor('the old root to retire', () => stageReached(events, 'retired'), 120_000);
      if (newRoot !== undefined) await agentsTrustExactly([newRoot.fingerprint]);
    });
    expect(stagesOf(events)).toEqual(['prepared', 'activated (auto)', 'retired (auto)']);
    if (newRoot === undefined) throw new Error('no new root');
    await expectEverythingOn(newRoot);
    await h.stack.waitReady(60_000);
  }, 300_000);

  it('waits while the gateway is unreachable during prepare, and completes once it is back: zero failed handshakes', async () => {
    const { Redis } = await import('ioredis');
    const redis = new Redis(h.stack.redisUrl);
    const statusStore = new RotationStatusStore(redis);
    const gateway = h.stack.app('issuer-gateway');
    let newRoot: RotationRoot | undefined;
    try {
      const { events } = await underTraffic('rotation with the gateway down during prepare', async ({ events }) => {
        newRoot = (await startRotation()).newRoot;
        await gateway.stop();
        try {
          // The ca-service notices and holds the rotation; read its status from Redis (the gateway is down).
          const held = await eventually(async () => {
            const status = await statusStore.get();
            return status?.stage === 'prepared' && /no issuer-gateway has been live/.test(status.waitingFor ?? '') ? status : undefined;
          }, 30_000, 'the rotation to wait for the gateway');
          // Held past the propagation period it would otherwise have used.
          const propagationEnds = Date.parse(held.stageSince ?? '') + held.propagationSeconds * 1000;
          await eventually(async () => (Date.now() > propagationEnds + 1_000 && (await statusStore.get())?.stage === 'prepared' ? true : undefined), 30_000, 'the propagation period to pass while held');
          expect(stageReached(events, 'activated')).toBe(false);
        } finally {
          if (!gateway.running) gateway.restart();
        }
        await h.stack.waitReady(60_000);
        await waitFor('the old root to retire', () => stageReached(events, 'retired'), 120_000);
        if (newRoot !== undefined) await agentsTrustExactly([newRoot.fingerprint]);
      });
      expect(stagesOf(events).slice(-2)).toEqual(['activated (auto)', 'retired (auto)']);
    } finally {
      redis.disconnect();
    }
    if (newRoot === undefined) throw new Error('no new root');
    await expectEverythingOn(newRoot);
  }, 300_000);

  it('rolls back after activate: the old root signs again, leaves chain to it again, the new root leaves the bundle; zero failed handshakes', async () => {
    let oldRoot: RotationRoot | undefined;
    const { events } = await underTraffic('rollback', async ({ events }) => {
      const roots = await startRotation(false);
      oldRoot = roots.oldRoot;
      const activated = await whenAllowed('activate', 'the propagation period to allow activate');
      expect(activated.stdout).toMatch(/^stage: activated \(rotation \S+\), manual;/);
      await waitFor('the activation', () => stageReached(events, 'activated'), 10_000);
      const rolledBack = await cli(h, ['ca', 'rotation', 'rollback']);
      expect(rolledBack.stderr).toBe('');
      expect(rolledBack.stdout).toMatch(/^stage: rolled-back \(rotation \S+\), manual;/);
      // The new root stays trusted until nothing chains to it and agents had the propagation period.
      const removed = await whenAllowed('rollback', 'the second rollback to remove the new root');
      expect(removed.stdout).toMatch(/^stage: idle \(rotation \S+\), manual;/);
      await agentsTrustExactly([roots.oldRoot.fingerprint]);
    });
    expect(stagesOf(events)).toEqual(['prepared', 'activated', 'rolled-back', 'idle']);
    if (oldRoot === undefined) throw new Error('no old root');
    await expectEverythingOn(oldRoot);
  }, 240_000);
});
