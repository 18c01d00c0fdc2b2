// The leaves a root-rotation pass moves, listed from the live-leaf index: the same leaves, due at
// the same times, as reading every record finds, pass after pass and stage after stage.
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { Inventory } from '@fsm-certs/queue';
import { usePrivateRedis } from '@fsm-certs/queue/testing';
import { createRootCa } from '@fsm-certs/x509';
import { csrLeafRecord } from '../test-support.test-helpers.js';
import { scanLeaves, type ScanPlan } from './leaf-scan.js';
import { PassLeafSource } from './pass-leaves.js';

const db = usePrivateRedis({ flush: 'each' });
const PREFIX = '{pass-leaves-test}';
const OLD = createRootCa().issuer;
const NEW = createRootCa().issuer;
const NOW = Date.parse('2030-01-01T00:00:00Z');
const HOUR = 3600_000;
let inventory: Inventory;

beforeAll(() => {
  inventory = new Inventory(db.redis, { prefix: PREFIX });
});

function plan(signer: string, leaving: string, salt: string, windowStartMs: number): ScanPlan {
  return { signer, spreadFrom: new Set([leaving]), windowStartMs, spreadMs: HOUR, salt, trusted: new Set([leaving]) };
}

async function dueNames(source: PassLeafSource, p: ScanPlan, atMs: number): Promise<string[]> {
  const leaves = await source.fromIndex(atMs, p, true);
  expect(leaves.source).toBe('index');
  const names: string[] = [];
  for await (const leaf of leaves.due(atMs)) names.push(leaf.commonName);
  return names.sort();
}

async function scannedDue(p: ScanPlan, atMs: number): Promise<string[]> {
  return (await scanLeaves(inventory, atMs, p)).toMove.filter((leaf) => leaf.dueAtMs <= atMs).map((leaf) => leaf.commonName).sort();
}

describe("a pass's moving leaves from the live-leaf index", () => {
  it("finds the leaves due at each point of the spread that reading every record finds, and a new stage's schedule, not the last one's", async () => {
    for (let i = 0; i < 60; i += 1) {
      await inventory.put(csrLeafRecord(OLD, `svc-${i}.x`, { notBefore: NOW - HOUR, notAfter: NOW + 10 * HOUR, renewAt: NOW + 5 * HOUR, issuedAt: NOW }));
    }
    await inventory.put(csrLeafRecord(NEW, 'already-new.x', { notBefore: NOW - HOUR, notAfter: NOW + 10 * HOUR, renewAt: NOW + 5 * HOUR, issuedAt: NOW }));
    await inventory.reindexLiveLeaves();
    const source = new PassLeafSource({ inventory, logger: pino({ level: 'silent' }) });
    const activated = plan(NEW.fingerprint, OLD.fingerprint, 'r1/activated', NOW);
    const seen: number[] = [];
    for (const at of [NOW - 1, NOW + HOUR / 4, NOW + HOUR / 2, NOW + HOUR]) {
      const due = await dueNames(source, activated, at);
      expect(due).toEqual(await scannedDue(activated, at));
      seen.push(due.length);
    }
    // Nothing before the window, some of it a quarter and half-way in, everything at its end.
    expect(seen[0]).toBe(0);
    expect(seen[1]).toBeGreaterThan(0);
    expect(seen[2]).toBeGreaterThan(seen[1] ?? 0);
    expect(seen[3]).toBe(60);
    // Another stage (another salt) has its own schedule, even one whose window began earlier than
    // the last stage's: due times kept from that stage must not hold its leaves back.
    const other = plan(NEW.fingerprint, OLD.fingerprint, 'r1/rolled-back', NOW - HOUR);
    const at = NOW - HOUR / 2;
    const due = await dueNames(source, other, at);
    expect(due.length).toBeGreaterThan(0);
    expect(due).toEqual(await scannedDue(other, at));
  });
});
