// Staged root rotation (Tresor): the stages, the actions an admin sends to POST /v1/ca/rotation,
// and the status GET /v1/ca/rotation answers. The ca-service persists the stage in the CA bundle
// secret and publishes this status to Redis; the gateway serves it as it is.
import { z } from 'zod';
import { GO_DURATION_PATTERN } from '@fsm-certs/core';
import { isoDateTimeSchema, pemOf } from './fields.js';

/**
 * idle: one root signs and is trusted. prepared: a new root is trusted beside it, the old one
 * still signs. activated: the new root signs, both are trusted, live leaves are re-issued over the
 * spread. rolled-back: the old root signs again, both trusted, leaves from the new root are
 * re-issued. retired: the old root left the bundle (the rotation is over; a new one may start).
 */
export const ROOT_ROTATION_STAGES = ['idle', 'prepared', 'activated', 'rolled-back', 'retired'] as const;
export const rootRotationStageSchema = z.enum(ROOT_ROTATION_STAGES);
export type RootRotationStage = z.infer<typeof rootRotationStageSchema>;

export const ROOT_ROTATION_ACTIONS = ['start', 'activate', 'retire', 'pause', 'resume', 'rollback'] as const;
export const rootRotationActionSchema = z.enum(ROOT_ROTATION_ACTIONS);
export type RootRotationAction = z.infer<typeof rootRotationActionSchema>;

const durationText = z
  .string()
  .max(64)
  .regex(GO_DURATION_PATTERN, 'must be a Go duration such as 10m or 1h30m')
  .meta({ description: 'A Go duration, e.g. `10m`, `1h`, `5s`; at least 1s, at most 8760h.' });

export const rootRotationRequestSchema = z
  .strictObject({
    action: rootRotationActionSchema,
    /** start only: advance through every stage on timers, each only when its condition holds. */
    auto: z.boolean().optional().meta({ description: '`start` only: advance on timers (activate after the propagation period, retire once no live leaf chains to the old root).' }),
    propagation: durationText.optional().meta({ description: '`start` only: how long agents get to fetch the new bundle before activation (and after the last re-issue, before retire). Default 10m.' }),
    spread: durationText.optional().meta({ description: '`start` only: the window over which live leaves are re-issued after activation (or a rollback). Default 1h.' }),
    force: z.boolean().optional().meta({ description: '`activate` / `retire`: proceed although the stage\'s condition does not hold yet. Workloads may fail handshakes.' }),
  })
  .meta({ id: 'RootRotationRequest', description: 'One action on the staged root rotation. Unknown fields are refused.' });
export type RootRotationRequest = z.infer<typeof rootRotationRequestSchema>;

export const ROOT_ROLES = ['old', 'new', 'current'] as const;

export const rotationRootSchema = z
  .object({
    role: z.enum(ROOT_ROLES).meta({ description: '`current` outside a rotation; `old` / `new` during one.' }),
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/).meta({ description: 'SHA-256 of the DER, lowercase hex.' }),
    subject: z.string(),
    notBefore: isoDateTimeSchema,
    notAfter: isoDateTimeSchema,
    signing: z.boolean().meta({ description: 'It signs new leaves now.' }),
    trusted: z.boolean().meta({ description: 'It is in the trust bundle.' }),
    liveLeaves: z.int().min(0).meta({ description: 'Live (unexpired) leaves in the inventory that chain to it.' }),
    certificate: pemOf('CERTIFICATE'),
  })
  .meta({ id: 'RotationRoot' });
export type RotationRoot = z.infer<typeof rotationRootSchema>;

export const rootRotationStatusSchema = z
  .object({
    stage: rootRotationStageSchema,
    /** Identifies one rotation from start to retire; absent before the first. */
    rotationId: z.string().min(1).optional(),
    paused: z.boolean(),
    auto: z.boolean(),
    propagationSeconds: z.number().min(0),
    spreadSeconds: z.number().min(0),
    stageSince: isoDateTimeSchema.optional(),
    /** What the rotation waits for before its next stage (auto), in words. */
    waitingFor: z.string().optional(),
    /** When the next automatic step may happen at the earliest (auto, not paused). */
    nextStepAt: isoDateTimeSchema.optional(),
    roots: z.array(rotationRootSchema).min(1),
    /** Live leaves chaining to none of the roots above (e.g. from a root deleted by hand). */
    otherLiveLeaves: z.int().min(0),
    /** The root each live ca-service replica signs with (fingerprint), by instance id. */
    signers: z.record(z.string(), z.string()),
    updatedAt: isoDateTimeSchema,
  })
  .meta({ id: 'RootRotationStatus', description: 'The staged root rotation: its stage, both roots and how many live leaves chain to each.' });
export type RootRotationStatus = z.infer<typeof rootRotationStatusSchema>;
