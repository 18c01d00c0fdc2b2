// What hop-floor-bench and its child processes say to each other over the IPC channel, checked
// with zod on arrival.
import { z } from 'zod';
import { HOP_PATHS } from './summary.js';

export const hopRoleSchema = z.enum(['producer', 'consumer']);
export type HopRole = z.infer<typeof hopRoleSchema>;
export const hopPathSchema = z.enum(HOP_PATHS);

/** The child's settings, from its environment. */
export const childEnvSchema = z.object({
  REDIS_URL: z.string().startsWith('redis://'),
  HOP_ROLE: hopRoleSchema,
  HOP_PATH: hopPathSchema,
  HOP_RESULT_BYTES_PER_ITEM: z.coerce.number().int().min(0).max(1_000_000),
});

/** To a producer: keep `lanes` jobs of `items` items in flight until `ms` have passed or `maxRoundTrips` were made. */
export const runMessageSchema = z.object({
  type: z.literal('run'),
  lanes: z.int().min(1).max(64),
  items: z.int().min(1).max(500),
  ms: z.number().positive().max(600_000),
  maxRoundTrips: z.int().positive(),
});
export type RunMessage = z.infer<typeof runMessageSchema>;

export const stopMessageSchema = z.object({ type: z.literal('stop') });
export const toChildSchema = z.discriminatedUnion('type', [runMessageSchema, stopMessageSchema]);
export type ToChild = z.infer<typeof toChildSchema>;

export const fromChildSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), payloadBytes: z.number().optional() }),
  z.object({
    type: z.literal('ran'),
    roundTrips: z.int().min(0),
    elapsedMs: z.number().min(0),
    latenciesUs: z.array(z.number()),
    errors: z.int().min(0),
    firstError: z.string().optional(),
  }),
  z.object({ type: z.literal('failed'), error: z.string() }),
]);
export type FromChild = z.infer<typeof fromChildSchema>;
