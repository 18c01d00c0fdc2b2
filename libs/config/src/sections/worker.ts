// worker.*: the ca-service (issue/rotate job processing) and the rotation-worker (renewal sweeps).
// Composed into the schema as `worker` (see schema.ts). Durations use Go syntax like FSM's.
import { z } from 'zod';
import { parseDurationMs } from '@fsm-certs/core';
import type { EnvBinding } from './env-binding.js';
import { goDuration } from './go-duration.js';

function positiveInt(what: string, max: number) {
  const error = `${what}: an integer 1-${max}`;
  return z.coerce.number({ error }).int({ error }).min(1, { error }).max(max, { error });
}

/** 32 random bytes as base64 (44 chars, or 43 unpadded/base64url) or hex (64 chars). */
function isKek(value: string): boolean {
  const text = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return true;
  if (!/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(text)) return false;
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64').length === 32;
}

export const workerSchema = z
  .strictObject({
    /** Issue/rotate jobs one ca-service process works on at once (CA_SERVICE_CONCURRENCY). */
    concurrency: positiveInt('jobs processed in parallel', 256).default(4),
    /**
     * How long a ca-service holds a job before it counts as stalled (CA_SERVICE_LOCK_DURATION).
     * Short enough that a replacement picks up a killed replica's batch well inside the gateway's
     * issue timeout; renewed every half of it while the job runs.
     */
    lockDuration: goDuration('a Go duration between 2s and 10m, e.g. 10s', 2_000, 600_000).default('10s'),
    /** How often a ca-service looks for stalled jobs of dead replicas (CA_SERVICE_STALLED_INTERVAL). */
    stalledInterval: goDuration('a Go duration of at least 1s, e.g. 5s', 1_000).default('5s'),
    /** Grace period for finishing in-flight jobs on SIGTERM (WORKER_SHUTDOWN_TIMEOUT). */
    shutdownTimeout: goDuration('a Go duration of at least 1s, e.g. 25s', 1_000).default('25s'),
    /** Period of the rotation sweep over the renew-time index (ROTATION_SWEEP_INTERVAL). */
    sweepInterval: goDuration('a Go duration of at least 100ms, e.g. 5s', 100).default('5s'),
    /**
     * Period of the ca-service's root rotation controller (CA_ROTATION_TICK): how soon a replica
     * follows a stage another one stored, and how often live leaves are counted and moved.
     */
    rotationTick: goDuration('a Go duration between 100ms and 1m, e.g. 2s', 100, 60_000).default('2s'),
    /**
     * The form the ca-service writes inventory records in (INVENTORY_RECORD_FORMAT): `binary`
     * (format 3, the smallest, read by this version and later), `compact` (format 2, read since
     * format 2) or `full` (read by every version). Set the form the oldest replica still running
     * reads, during a rolling upgrade.
     */
    recordFormat: z.enum(['binary', 'compact', 'full']).default('binary'),
    /** Most certificates one sweep enqueues; the rest wait for the next sweep (ROTATION_SWEEP_LIMIT). */
    sweepLimit: positiveInt('certificates per sweep', 100_000).default(500),
    /**
     * AES-256-GCM key-encryption key for server-generated private keys (FSM_KEY_ENCRYPTION_KEY).
     * Unset in the embedded file-store mode: the services then share one kept in the secret store.
     */
    keyEncryptionKey: z
      .string()
      .refine(isKek, { error: '32 random bytes as base64 (44 characters) or hex (64); generate with `openssl rand -base64 32`' })
      .optional(),
  })
  .prefault({})
  .transform((section) => ({
    ...section,
    lockDurationMs: parseDurationMs(section.lockDuration),
    stalledIntervalMs: parseDurationMs(section.stalledInterval),
    shutdownTimeoutMs: parseDurationMs(section.shutdownTimeout),
    sweepIntervalMs: parseDurationMs(section.sweepInterval),
    rotationTickMs: parseDurationMs(section.rotationTick),
  }));

/** The brief's name for the section schema. */
export const workerSection = workerSchema;

export type WorkerConfig = z.output<typeof workerSchema>;

export const workerEnv: readonly EnvBinding[] = [
  { env: 'CA_SERVICE_CONCURRENCY', path: ['worker', 'concurrency'] },
  { env: 'CA_SERVICE_LOCK_DURATION', path: ['worker', 'lockDuration'] },
  { env: 'CA_SERVICE_STALLED_INTERVAL', path: ['worker', 'stalledInterval'] },
  { env: 'WORKER_SHUTDOWN_TIMEOUT', path: ['worker', 'shutdownTimeout'] },
  { env: 'ROTATION_SWEEP_INTERVAL', path: ['worker', 'sweepInterval'] },
  { env: 'ROTATION_SWEEP_LIMIT', path: ['worker', 'sweepLimit'] },
  { env: 'CA_ROTATION_TICK', path: ['worker', 'rotationTick'] },
  { env: 'INVENTORY_RECORD_FORMAT', path: ['worker', 'recordFormat'] },
  { env: 'FSM_KEY_ENCRYPTION_KEY', path: ['worker', 'keyEncryptionKey'], secret: true },
];
