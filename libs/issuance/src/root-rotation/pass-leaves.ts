// The leaves of one root-rotation pass, at a cost that follows the leaves that move rather than the
// inventory (issue 15). Counts per root and the names of the leaves to move come from the
// inventory's live-leaf index (one ZCOUNT per root; the leaving root's names in pages, O(log n)
// each); a listed name's record is read only once its time in the spread has come, and the record,
// not the index, says whether it still needs to move. Where the index and a record disagree (a
// replica of a previous version replaced the record without indexing it), the record is indexed
// again as it is.
//
// The index is kept by the same scripts as the records, but an older replica during a rolling
// upgrade writes records without it, so a decision that revokes trust never rests on it alone:
// when the index says the leaving root has no live leaf left and the pass is about to act on that
// (note the drain, or drop the root), every record is read once (scanLeaves) and that read decides.
// Leaves the index missed are then indexed, so the following passes list them and the full read
// is not repeated until the index says zero again.
import type { Logger } from 'pino';
import { MAX_LIVE_LEAF_NAMES_PAGE, type Inventory, type LeafFacts } from '@fsm-certs/queue';
import { dueAtOf, scanLeaves, type LeafToMove, type ScanPlan } from './leaf-scan.js';

export type PassInventory = Pick<Inventory, 'leaves' | 'liveLeafCounts' | 'reindexLiveLeaves' | 'liveLeafNames' | 'leafFacts' | 'indexLiveLeaves'>;

/**
 * Between rotations the counts come from the index. When it is incomplete (the first start after an
 * upgrade from a version without it, or records a replica of that version wrote during a rolling
 * upgrade), the lease holder indexes every record once; that reads the whole inventory (~6 s at
 * 100k certificates, a minute at 1M on a loaded 2-core machine), so while the index stays
 * incomplete it is redone only once `factor` times its own duration has passed (at most
 * ~1/factor of a core); runs shorter than minScanMs (small inventories) may be redone every tick.
 */
export const DEFAULT_IDLE_SCAN_SPACING = { factor: 20, minScanMs: 50 } as const;

/** Names per index page: the largest the index lists in one script call. */
const NAMES_PAGE = MAX_LIVE_LEAF_NAMES_PAGE;
/** Records read per round trip while enqueueing. */
const READ_CHUNK = 500;
/**
 * Due times kept between passes of one stage (a name's is fixed by the rotation, the stage and the
 * name): hashing every listed name again was most of a pass's own CPU. ~90 bytes each, so at most
 * ~23 MB; names beyond it are hashed on every pass.
 */
const MAX_CACHED_DUE_TIMES = 250_000;

export interface PassLeaves {
  /** Live leaves per issuer fingerprint. */
  readonly liveByIssuer: ReadonlyMap<string, number>;
  /** 'index' when counts and names came from the live-leaf index; 'records' when every record was read. */
  readonly source: 'index' | 'records';
  /** Live leaves chaining to a root other than the signer (to be moved over the spread). */
  readonly moving: number;
  /** The leaves whose time has come, read from their records, in chunks as they are consumed. */
  readonly due: (nowMs: number) => AsyncIterable<LeafToMove>;
}

export interface PassLeavesOptions {
  readonly inventory: PassInventory;
  readonly logger: Logger;
  readonly idleScanSpacing?: { readonly factor: number; readonly minScanMs: number };
}

export class PassLeafSource {
  /** The last reindex of the live-leaf index: when it ended and how long it took (monotonic ms, not the clock). */
  private lastReindex: { readonly endedAt: number; readonly tookMs: number } | undefined;
  private dueTimes: DueTimes = { salt: '', byName: new Map() };

  constructor(private readonly options: PassLeavesOptions) {}

  /**
   * The pass's leaves from the index: counts, and with a plan (leaves moving) the names due to
   * move. Falls back to reading every record when the index is incomplete and may not be rebuilt
   * yet (DEFAULT_IDLE_SCAN_SPACING).
   */
  async fromIndex(nowMs: number, plan: ScanPlan | undefined, moving: boolean): Promise<PassLeaves> {
    const counts = await this.indexedCounts(nowMs);
    if (!counts.complete) {
      // Between rotations an incomplete index only makes the status approximate; while leaves move it would miss some.
      if (moving) return this.fromRecords(nowMs, plan, undefined);
      return { liveByIssuer: counts.byIssuer, source: 'index', moving: 0, due: () => none() };
    }
    if (plan === undefined) return { liveByIssuer: counts.byIssuer, source: 'index', moving: 0, due: () => none() };
    if (this.dueTimes.salt !== plan.salt) this.dueTimes = { salt: plan.salt, byName: new Map() };
    const listed = await listDue(this.options.inventory, nowMs, plan, counts.byIssuer, this.dueTimes.byName);
    return {
      liveByIssuer: counts.byIssuer,
      source: 'index',
      moving: listed.moving,
      due: (atMs) => readDue(this.options.inventory, listed.due, plan, atMs),
    };
  }

  /**
   * Reads every record (O(inventory)): what a decision to drop a root rests on. When it finds
   * leaves of a root other than the signer that the index did not count, indexes them.
   */
  async fromRecords(nowMs: number, plan: ScanPlan | undefined, indexed: ReadonlyMap<string, number> | undefined): Promise<PassLeaves> {
    const scan = await scanLeaves(this.options.inventory, nowMs, plan);
    if (indexed !== undefined) {
      const missed = [...scan.liveByIssuer].filter(([issuer, n]) => n > (indexed.get(issuer) ?? 0) && (plan === undefined || issuer !== plan.signer));
      if (missed.length > 0) {
        this.options.logger.warn(
          { missed: Object.fromEntries(missed.map(([issuer, n]) => [issuer, n - (indexed.get(issuer) ?? 0)])) },
          'root rotation: the live-leaf index missed live leaves of a root being left (records stored by a previous version?); indexing them',
        );
        await this.options.inventory.indexLiveLeaves(scan.toMove.map(factsOf));
      }
    }
    return {
      liveByIssuer: scan.liveByIssuer,
      source: 'records',
      moving: scan.toMove.length,
      due: (atMs) => fromArray(scan.toMove.filter((leaf) => leaf.dueAtMs <= atMs)),
    };
  }

  /** Live leaves per root from the index; indexes every record first when it is incomplete (see DEFAULT_IDLE_SCAN_SPACING). */
  private async indexedCounts(nowMs: number): Promise<{ readonly byIssuer: ReadonlyMap<string, number>; readonly complete: boolean }> {
    const { inventory, logger } = this.options;
    const counts = await inventory.liveLeafCounts(nowMs);
    if (counts.complete) return counts;
    const spacing = this.options.idleScanSpacing ?? DEFAULT_IDLE_SCAN_SPACING;
    const last = this.lastReindex;
    if (last !== undefined && last.tookMs >= spacing.minScanMs && performance.now() - last.endedAt < last.tookMs * spacing.factor) return counts;
    if (last === undefined) logger.info('live-leaf index not complete (a first start, or records stored by a previous version): indexing every record once');
    const started = performance.now();
    await inventory.reindexLiveLeaves();
    const endedAt = performance.now();
    this.lastReindex = { endedAt, tookMs: endedAt - started };
    return inventory.liveLeafCounts(nowMs);
  }
}

interface DueTimes {
  readonly salt: string;
  readonly byName: Map<string, number>;
}

interface DueName {
  readonly commonName: string;
  readonly listedUnder: string;
}

/** Lists the names the index holds under every root but the signer, keeping those whose time has come. */
async function listDue(inventory: PassInventory, nowMs: number, plan: ScanPlan, byIssuer: ReadonlyMap<string, number>, cache: Map<string, number>): Promise<{ due: DueName[]; moving: number }> {
  const due = new Map<string, DueName>();
  let moving = 0;
  for (const [issuerId, count] of byIssuer) {
    if (count === 0 || issuerId === plan.signer || (!plan.spreadFrom.has(issuerId) && plan.trusted.has(issuerId))) continue;
    moving += count;
    const spread = plan.spreadFrom.has(issuerId);
    let after: Parameters<PassInventory['liveLeafNames']>[2]['after'];
    // Bounded: the set is finite, and a name comes at most twice (a page after a moved cursor may
    // repeat names of equal score); names added meanwhile are listed by the next pass.
    const maxPages = 2 * Math.ceil(count / NAMES_PAGE) + 2;
    for (let pages = 0; pages < maxPages; pages += 1) {
      const page = await inventory.liveLeafNames(issuerId, nowMs, { limit: NAMES_PAGE, ...(after === undefined ? {} : { after }) });
      for (const name of page.names) {
        // Leaves of a root outside the spread are due at once; only the spread's times are kept.
        let dueAtMs = spread ? cache.get(name) : nowMs;
        if (dueAtMs === undefined) {
          dueAtMs = dueAtOf(plan, issuerId, name, nowMs) ?? Number.POSITIVE_INFINITY;
          if (cache.size < MAX_CACHED_DUE_TIMES) cache.set(name, dueAtMs);
        }
        // A name may come twice (see liveLeafNames): kept once.
        if (dueAtMs <= nowMs) due.set(name, { commonName: name, listedUnder: issuerId });
      }
      if (page.next === undefined) break;
      after = page.next;
    }
  }
  return { due: [...due.values()], moving };
}

/**
 * The due names' records, a chunk per round trip as the consumer asks: a record the index listed
 * under another root or as live although it no longer is, is indexed again as it is (so it stops
 * being counted where it is not), and only leaves that still chain to a root being left, are live
 * and due are yielded.
 */
async function* readDue(inventory: PassInventory, due: readonly DueName[], plan: ScanPlan, nowMs: number): AsyncGenerator<LeafToMove> {
  for (let i = 0; i < due.length; i += READ_CHUNK) {
    const chunk = due.slice(i, i + READ_CHUNK);
    const listedUnder = new Map(chunk.map((d) => [d.commonName, d.listedUnder]));
    const facts = await inventory.leafFacts(chunk.map((d) => d.commonName));
    const stale = facts.filter((f) => f.issuerId !== listedUnder.get(f.commonName) || f.notAfterMs <= nowMs);
    if (stale.length > 0) await inventory.indexLiveLeaves(stale);
    for (const f of facts) {
      if (f.notAfterMs <= nowMs) continue;
      const dueAtMs = dueAtOf(plan, f.issuerId, f.commonName, nowMs);
      if (dueAtMs !== undefined && dueAtMs <= nowMs) yield { commonName: f.commonName, serialNumber: f.serialNumber, issuerId: f.issuerId, notAfterMs: f.notAfterMs, dueAtMs };
    }
  }
}

function factsOf(leaf: LeafToMove): LeafFacts {
  return { commonName: leaf.commonName, serialNumber: leaf.serialNumber, issuerId: leaf.issuerId, notAfterMs: leaf.notAfterMs };
}

async function* none(): AsyncGenerator<LeafToMove> {}

async function* fromArray(leaves: readonly LeafToMove[]): AsyncGenerator<LeafToMove> {
  yield* leaves;
}
