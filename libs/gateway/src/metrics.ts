// Prometheus metrics of the gateway. Gauges that cost a Redis round trip (queue depth, inventory
// size, root expiry) are read at scrape time, not on the request path.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ROOT_ROTATION_STAGES, type RootRotationStatus } from '@fsm-certs/api';

export type IssuanceOutcome = 'issued' | 'client_error' | 'denied' | 'timeout' | 'unavailable' | 'failed';

export interface ScrapeSources {
  queueDepth(): Promise<number>;
  inventorySize(): Promise<number>;
  /** Epoch seconds of the earliest trusted root's notAfter, or undefined when no bundle yet. */
  rootNotAfterSeconds(): Promise<number | undefined>;
  /** The staged root rotation's last published status, if any. */
  rootRotation?(): Promise<RootRotationStatus | undefined>;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  observeIssuance(outcome: IssuanceOutcome, seconds: number): void;
  observeBatch(size: number): void;
  /** A read met a stored record that does not decode (skipped in a list, or refused for its name). */
  countUndecodableRecord(): void;
}

export function outcomeForStatus(status: number): IssuanceOutcome {
  if (status < 400) return 'issued';
  if (status === 401 || status === 403 || status === 429) return 'denied';
  if (status === 504) return 'timeout';
  if (status === 503) return 'unavailable';
  if (status < 500) return 'client_error';
  return 'failed';
}

export function createGatewayMetrics(registry: Registry, sources: ScrapeSources): GatewayMetrics {
  const issuance = new Counter({
    name: 'fsm_certs_gateway_issuance_total',
    help: 'Issue requests answered by the gateway, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'fsm_certs_gateway_issuance_duration_seconds',
    help: 'Time from receiving an issue request to answering it.',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'fsm_certs_gateway_issue_batch_size',
    help: 'Requests carried per issue job.',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 500],
    registers: [registry],
  });
  const undecodable = new Counter({
    name: 'fsm_certs_inventory_undecodable_records_total',
    help: 'Reads that met a stored certificate record that does not decode (left out of a list, or refused for its name). Non-zero: see the gateway log for the name, delete it and issue it again.',
    registers: [registry],
  });
  // A failed Redis read leaves the gauge at its last value rather than failing the scrape.
  new Gauge({
    name: 'fsm_certs_issue_queue_depth',
    help: 'Issue jobs waiting, delayed or active.',
    registers: [registry],
    async collect() {
      try {
        this.set(await sources.queueDepth());
      } catch {
        /* keep the last value */
      }
    },
  });
  new Gauge({
    name: 'fsm_certs_inventory_certificates',
    help: 'Certificates held in the inventory.',
    registers: [registry],
    async collect() {
      try {
        this.set(await sources.inventorySize());
      } catch {
        /* keep the last value */
      }
    },
  });
  new Gauge({
    name: 'fsm_certs_root_ca_not_after_timestamp_seconds',
    help: 'Expiry (notAfter, Unix seconds) of the earliest-expiring trusted root CA.',
    registers: [registry],
    async collect() {
      try {
        const value = await sources.rootNotAfterSeconds();
        if (value !== undefined) this.set(value);
      } catch {
        /* keep the last value */
      }
    },
  });
  let rotation: Promise<RootRotationStatus | undefined> | undefined;
  // Both gauges read one status per scrape.
  const rotationStatus = (): Promise<RootRotationStatus | undefined> => {
    rotation ??= (sources.rootRotation?.() ?? Promise.resolve(undefined)).finally(() => setImmediate(() => (rotation = undefined)));
    return rotation;
  };
  new Gauge({
    name: 'fsm_certs_root_rotation_stage',
    help: 'The staged root rotation\'s stage: 1 for the current one, 0 for the others.',
    labelNames: ['stage'] as const,
    registers: [registry],
    async collect() {
      try {
        const status = await rotationStatus();
        if (status === undefined) return;
        for (const stage of ROOT_ROTATION_STAGES) this.set({ stage }, stage === status.stage ? 1 : 0);
      } catch {
        /* keep the last value */
      }
    },
  });
  new Gauge({
    name: 'fsm_certs_root_rotation_live_leaves',
    help: 'Live leaf certificates chaining to each root of the staged root rotation (role old, new, or current outside a rotation).',
    labelNames: ['role'] as const,
    registers: [registry],
    async collect() {
      try {
        const status = await rotationStatus();
        if (status === undefined) return;
        this.reset();
        for (const root of status.roots) this.inc({ role: root.role }, root.liveLeaves);
      } catch {
        /* keep the last value */
      }
    },
  });
  // One bound child per outcome: observing through it skips hashing the label set per request.
  const byOutcome = new Map<IssuanceOutcome, { count: () => void; observe: (seconds: number) => void }>();
  for (const outcome of ['issued', 'client_error', 'denied', 'timeout', 'unavailable', 'failed'] as const) {
    issuance.inc({ outcome }, 0);
    const counter = issuance.labels(outcome);
    const histogram = latency.labels(outcome);
    byOutcome.set(outcome, { count: () => counter.inc(), observe: (seconds) => histogram.observe(seconds) });
  }
  return {
    registry,
    observeIssuance(outcome, seconds) {
      const bound = byOutcome.get(outcome);
      if (bound === undefined) return;
      bound.count();
      bound.observe(seconds);
    },
    observeBatch(size) {
      batchSize.observe(size);
    },
    countUndecodableRecord() {
      undecodable.inc();
    },
  };
}
