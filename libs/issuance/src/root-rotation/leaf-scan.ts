// One pass over the inventory for the root rotation: how many live leaves chain to each issuer,
// and which leaves must move to the signing root and when. Leaves are spread over the window by a
// hash of (rotation, stage, name), so every replica computes the same schedule without storing
// one, and a replica taking over after a crash continues it unchanged.
import { hash } from 'node:crypto';
import type { Inventory } from '@fsm-certs/queue';

export interface LeafToMove {
  readonly commonName: string;
  readonly serialNumber: string;
  readonly issuerId: string;
  readonly notAfterMs: number;
  /** Epoch ms from which it is re-issued. */
  readonly dueAtMs: number;
}

export interface LeafScan {
  /** Live leaves per issuer fingerprint. */
  readonly liveByIssuer: ReadonlyMap<string, number>;
  /** Live leaves not from the signer, with their due time. */
  readonly toMove: readonly LeafToMove[];
}

export interface ScanPlan {
  /** Fingerprint of the root that signs now. */
  readonly signer: string;
  /** Leaves from these issuers are spread over [windowStartMs, windowStartMs + spreadMs). */
  readonly spreadFrom: ReadonlySet<string>;
  readonly windowStartMs: number;
  readonly spreadMs: number;
  /** Salt of the spread (the rotation id and stage). */
  readonly salt: string;
  /** Leaves from an issuer that is neither the signer nor in spreadFrom are due at once (e.g. after a forced retire). */
  readonly trusted: ReadonlySet<string>;
}

/**
 * A stable fraction in [0, 1) for `name` under `salt`: the first 32 bits of SHA-256(salt, NUL,
 * name). Every replica of every version must compute the same one (a rolling upgrade mid-rotation
 * continues the schedule), so the input bytes never change; the one-shot hash() only saves the
 * per-call Hash object, which a pass pays once per moving leaf.
 */
export function spreadFraction(salt: string, name: string): number {
  return hash('sha256', `${salt}\0${name}`, 'buffer').readUInt32BE(0) / 2 ** 32;
}

const PAGE = 1_000;

/** When a live leaf of `issuerId` moves to the signer: undefined when it stays (the signer's own, or no plan). */
export function dueAtOf(plan: ScanPlan | undefined, issuerId: string, commonName: string, nowMs: number): number | undefined {
  if (plan === undefined || issuerId === plan.signer) return undefined;
  if (plan.spreadFrom.has(issuerId)) return plan.windowStartMs + Math.floor(plan.spreadMs * spreadFraction(plan.salt, commonName));
  return plan.trusted.has(issuerId) ? undefined : nowMs;
}

/** Reads every record: O(inventory). The final check before a root is dropped, and the fallback while the index is incomplete. */
export async function scanLeaves(inventory: Pick<Inventory, 'leaves'>, nowMs: number, plan: ScanPlan | undefined): Promise<LeafScan> {
  const liveByIssuer = new Map<string, number>();
  const toMove: LeafToMove[] = [];
  let cursor: string | undefined;
  // Bounded: a page per iteration, and the name index is finite; stop at a repeated cursor.
  for (let pages = 0; pages < 1_000_000; pages += 1) {
    // Four fields per record, not a full decode: at a million records the difference is the scan's cost.
    const page = await inventory.leaves({ limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    for (const record of page.items) {
      if (record.notAfterMs <= nowMs) continue;
      liveByIssuer.set(record.issuerId, (liveByIssuer.get(record.issuerId) ?? 0) + 1);
      const dueAtMs = dueAtOf(plan, record.issuerId, record.commonName, nowMs);
      if (dueAtMs !== undefined) toMove.push({ commonName: record.commonName, serialNumber: record.serialNumber, issuerId: record.issuerId, notAfterMs: record.notAfterMs, dueAtMs });
    }
    if (page.nextCursor === undefined || page.nextCursor === cursor) break;
    cursor = page.nextCursor;
  }
  return { liveByIssuer, toMove };
}
