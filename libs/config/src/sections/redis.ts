// redis.*: the queue and inventory backend. Every key shares one prefix with a hash tag so the
// whole system runs on Redis Cluster unchanged.
import { z } from 'zod';
import type { EnvBinding } from './env-binding.js';

export const redisSchema = z
  .strictObject({
    url: z
      .string()
      .refine(
        (value) => {
          try {
            return ['redis:', 'rediss:'].includes(new URL(value).protocol);
          } catch {
            return false;
          }
        },
        { error: 'a redis:// or rediss:// URL such as redis://127.0.0.1:6379' },
      )
      .optional(),
    prefix: z
      .string()
      .regex(/\{[^{}]+\}/, { error: 'a key prefix containing a Redis Cluster hash tag, e.g. {fsm-certs}' })
      .default('{fsm-certs}'),
  })
  .prefault({});

export const redisEnv: readonly EnvBinding[] = [
  // The URL may carry a password.
  { env: 'REDIS_URL', path: ['redis', 'url'], secret: true },
  { env: 'FSM_REDIS_PREFIX', path: ['redis', 'prefix'] },
];
