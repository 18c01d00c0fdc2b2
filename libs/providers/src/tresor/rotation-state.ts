// The staged root rotation as stored in the CA bundle secret, beside FSM's two keys:
//   ca.crt / private.key   the root that signs now (what FSM and its tooling read)
//   standby.crt / .key     the other trusted root during a rotation: the new root while prepared or
//                          rolled back, the old root while activated; absent otherwise
//   rotation.json          this state: stage, periods, flags, fingerprints, a generation counter
// One secret, one update: the signer, the bundle and the stage always change together, with the
// store's optimistic concurrency (resourceVersion) deciding between replicas.
import { z } from 'zod';

export const STANDBY_CERT_KEY = 'standby.crt';
export const STANDBY_PRIVATE_KEY_KEY = 'standby.key';
export const ROTATION_STATE_KEY = 'rotation.json';

export const TRESOR_ROTATION_STAGES = ['idle', 'prepared', 'activated', 'rolled-back', 'retired'] as const;
export type TresorRotationStage = (typeof TRESOR_ROTATION_STAGES)[number];

const fingerprint = z.string().regex(/^[0-9a-f]{64}$/);

export const rotationStateSchema = z.object({
  version: z.literal(1),
  stage: z.enum(TRESOR_ROTATION_STAGES),
  /** Bumped by every change: a step decided on generation N is refused once it moved on. */
  generation: z.int().min(0),
  rotationId: z.string().min(1).optional(),
  paused: z.boolean(),
  auto: z.boolean(),
  propagationMs: z.int().min(0),
  spreadMs: z.int().min(0),
  stageSince: z.iso.datetime({ offset: true }),
  oldFingerprint: fingerprint.optional(),
  newFingerprint: fingerprint.optional(),
  /** When the leaves to move away from (old root when activated, new when rolled back) were first seen gone. */
  drainedAt: z.iso.datetime({ offset: true }).optional(),
  /** Since when no issuer-gateway is live: agents cannot fetch anything, so the clock stops. */
  gatewayDownAt: z.iso.datetime({ offset: true }).optional(),
  /** When a gateway came back: periods count from here at the earliest. */
  clockFrom: z.iso.datetime({ offset: true }).optional(),
});
export type RotationState = z.infer<typeof rotationStateSchema>;

export const DEFAULT_PROPAGATION_MS = 10 * 60_000;
export const DEFAULT_SPREAD_MS = 3_600_000;

export function idleState(now: Date): RotationState {
  return {
    version: 1,
    stage: 'idle',
    generation: 0,
    paused: false,
    auto: false,
    propagationMs: DEFAULT_PROPAGATION_MS,
    spreadMs: DEFAULT_SPREAD_MS,
    stageSince: now.toISOString(),
  };
}

/** The state in a secret's data; undefined when the secret predates staged rotation (= idle). */
export function decodeRotationState(raw: Buffer | undefined): RotationState | undefined | Error {
  if (raw === undefined || raw.length === 0) return undefined;
  try {
    const parsed = rotationStateSchema.safeParse(JSON.parse(raw.toString('utf8')));
    return parsed.success ? parsed.data : new Error(`${ROTATION_STATE_KEY}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  } catch (error) {
    return new Error(`${ROTATION_STATE_KEY} is not JSON (${(error as Error).message})`);
  }
}

export function encodeRotationState(state: RotationState): Buffer {
  return Buffer.from(`${JSON.stringify(rotationStateSchema.parse(state), null, 2)}\n`);
}
