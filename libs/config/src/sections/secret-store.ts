// secretStore.*: where the CA bundle secret lives — Kubernetes Secrets in a cluster, files otherwise.
import { z } from 'zod';
import type { EnvBinding } from './env-binding.js';

export const secretStoreSchema = z
  .strictObject({
    kind: z.enum(['file', 'kubernetes']).default('file'),
    dataDir: z.string().min(1, { error: 'a directory path; secrets go under <dataDir>/secrets' }).default('.data'),
  })
  .prefault({});

export const secretStoreEnv: readonly EnvBinding[] = [
  { env: 'FSM_SECRET_STORE', path: ['secretStore', 'kind'] },
  { env: 'FSM_DATA_DIR', path: ['secretStore', 'dataDir'] },
];
