// The `root-rotation` queue: the gateway hands an admin's action on the staged root rotation to
// whichever ca-service takes the job (only the ca-service reaches the CA bundle secret), and
// waits for the result. The status every ca-service publishes to Redis is the HTTP response's
// schema, defined once in @fsm-certs/api.
import { z } from 'zod';
import { rootRotationActionSchema, rootRotationStatusSchema } from '@fsm-certs/api';
import { jobErrorSchema } from './common.js';

export {
  rootRotationActionSchema,
  rootRotationStageSchema,
  rootRotationStatusSchema,
  ROOT_ROTATION_ACTIONS,
  ROOT_ROTATION_STAGES,
  type RootRotationAction,
  type RootRotationStage,
  type RootRotationStatus,
  type RotationRoot,
} from '@fsm-certs/api';

/** Bounds of the propagation and spread periods: seconds for demos and tests, a year at most. */
export const MIN_ROTATION_PERIOD_MS = 1_000;
export const MAX_ROTATION_PERIOD_MS = 8_760 * 3_600_000;

const periodMs = z.int().min(MIN_ROTATION_PERIOD_MS).max(MAX_ROTATION_PERIOD_MS);

export const rootRotationJobPayloadSchema = z.object({
  version: z.literal(1),
  action: rootRotationActionSchema,
  auto: z.boolean().optional(),
  propagationMs: periodMs.optional(),
  spreadMs: periodMs.optional(),
  force: z.boolean().optional(),
  /** Who asked (the token's name), for the audit line. */
  requestedBy: z.string().max(256).optional(),
});
export type RootRotationJobPayload = z.infer<typeof rootRotationJobPayloadSchema>;

export const rootRotationJobResultSchema = z.discriminatedUnion('ok', [
  z.object({ version: z.literal(1), ok: z.literal(true), status: rootRotationStatusSchema }),
  z.object({ version: z.literal(1), ok: z.literal(false), error: jobErrorSchema }),
]);
export type RootRotationJobResult = z.infer<typeof rootRotationJobResultSchema>;
