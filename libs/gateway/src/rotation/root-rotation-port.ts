// How the gateway reaches the staged root rotation: the status the ca-service publishes to Redis
// (read directly), and actions handed to a ca-service over the `root-rotation` queue.
import type { QueueEvents } from 'bullmq';
import {
  rootRotationJobResultSchema,
  type RootRotationJobPayload,
  type RootRotationJobResult,
  type RootRotationQueue,
  type RootRotationStatus,
  type RotationStatusStore,
} from '@fsm-certs/queue';
import { GatewayError } from '../errors.js';

export interface RootRotationPort {
  /** The last published status; undefined before a ca-service published one. */
  status(): Promise<RootRotationStatus | undefined>;
  /** Runs an action on a ca-service and returns its result (GatewayError on timeout / outage). */
  act(payload: RootRotationJobPayload): Promise<RootRotationJobResult>;
}

export class BullMqRootRotation implements RootRotationPort {
  constructor(
    private readonly options: {
      readonly queue: RootRotationQueue;
      readonly queueEvents: QueueEvents;
      readonly store: RotationStatusStore;
      readonly timeoutMs: number;
      readonly retryAfterSeconds: number;
    },
  ) {}

  status(): Promise<RootRotationStatus | undefined> {
    return this.options.store.get();
  }

  async act(payload: RootRotationJobPayload): Promise<RootRotationJobResult> {
    const { queue, queueEvents, timeoutMs, retryAfterSeconds } = this.options;
    let job;
    try {
      job = await queue.add('root-rotation', payload);
    } catch (error) {
      throw new GatewayError('BACKEND_UNAVAILABLE', 'The root-rotation queue is unreachable (Redis down?); retry shortly.', { cause: error, retryAfterSeconds });
    }
    let value: unknown;
    try {
      value = await job.waitUntilFinished(queueEvents, timeoutMs);
    } catch (error) {
      // A job no ca-service started is withdrawn, so it cannot surprise anyone later.
      const state = await job.getState().catch(() => 'unknown');
      if (state === 'waiting' || state === 'prioritized' || state === 'delayed') await job.remove().catch(() => undefined);
      const message = error instanceof Error ? error.message : String(error);
      if (/timed out/i.test(message)) {
        throw new GatewayError('ISSUANCE_TIMEOUT', `No ca-service carried out "${payload.action}" within ${timeoutMs} ms (${state === 'active' ? 'it is still running; look at GET /v1/ca/rotation' : 'withdrawn'}).`, { cause: error });
      }
      throw new GatewayError('BACKEND_UNAVAILABLE', `The ca-service failed "${payload.action}": ${message}`, { cause: error, retryAfterSeconds });
    }
    const parsed = rootRotationJobResultSchema.safeParse(value);
    if (!parsed.success) throw new GatewayError('INTERNAL', 'The ca-service answered the root-rotation job with an unexpected result.', { cause: parsed.error });
    return parsed.data;
  }
}
