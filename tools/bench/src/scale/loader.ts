// Fills the inventory with N certificates through the inventory's own commit (IssueBatchStore),
// so what lands in Redis is exactly what an issuance writes: the hash, both indexes, the request
// marker and the announcement. Records are copies of templates the real issue path produced,
// each with its own name, serial and renew time, so their sizes are those of real certificates.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { IssueBatchStore, type CertificateRecord, type StoreWrite } from '@fsm-certs/queue';

/** Names sort in load order, so the last page of a list is the last names loaded. */
export function benchName(i: number): string {
  return `scale-${String(i).padStart(8, '0')}.bench.cluster.local`;
}

/** One certificate in `dueEvery` is due now; the rest renew in a day or more. */
export function renewAtOf(i: number, nowMs: number, dueEvery: number): number {
  return i % dueEvery === 0 ? nowMs - 60_000 - (i % 1000) : nowMs + 86_400_000 + (i % 100_000) * 1000;
}

export interface LoadOptions {
  readonly redis: Redis;
  readonly prefix: string;
  readonly templates: readonly CertificateRecord[];
  /** Names [from, to) are written. */
  readonly from: number;
  readonly to: number;
  readonly nowMs: number;
  readonly dueEvery: number;
  readonly batch?: number;
  readonly inFlight?: number;
}

export async function loadInventory(options: LoadOptions): Promise<void> {
  const store = new IssueBatchStore(options.redis, { prefix: options.prefix });
  const batch = options.batch ?? 500;
  const inFlight = options.inFlight ?? 4;
  let next = options.from;
  const worker = async (): Promise<void> => {
    while (next < options.to) {
      const start = next;
      const end = Math.min(options.to, start + batch);
      next = end;
      const writes: StoreWrite[] = [];
      for (let i = start; i < end; i += 1) writes.push(writeFor(options, i));
      const applied = await store.commit(writes);
      if (applied.some((ok) => !ok)) throw new Error(`the bulk load found names already present in [${start}, ${end})`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, () => worker()));
}

function writeFor(options: LoadOptions, i: number): StoreWrite {
  const template = options.templates[i % options.templates.length];
  if (template === undefined) throw new Error('the bulk load needs at least one template record');
  const commonName = benchName(i);
  const serialNumber = randomBytes(16).toString('hex');
  const record: CertificateRecord = {
    ...template,
    commonName,
    serialNumber,
    dnsNames: [commonName],
    renewAt: new Date(renewAtOf(i, options.nowMs, options.dueEvery)).toISOString(),
  };
  return {
    kind: 'store',
    record,
    expectSerial: null,
    requestIds: [randomBytes(12).toString('base64url')],
    event: { version: 1, kind: 'issued', at: new Date(options.nowMs).toISOString(), commonName, serialNumber, notAfter: record.notAfter },
  };
}
