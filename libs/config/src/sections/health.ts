// health.*: the small HTTP listener of the ca-service and the rotation-worker for /healthz,
// /readyz and /metrics (the issuer-gateway serves those on its own port instead). Loopback by
// default; a pod sets HEALTH_HOST=0.0.0.0 so the kubelet and Prometheus can reach it.
import { z } from 'zod';
import type { EnvBinding } from './env-binding.js';

const portError = 'TCP port 0-65535 (0 = any free port)';

export const healthSchema = z
  .strictObject({
    host: z.string().min(1, { error: 'an interface address such as 127.0.0.1 or 0.0.0.0' }).default('127.0.0.1'),
    port: z.coerce.number({ error: portError }).int({ error: portError }).min(0, { error: portError }).max(65535, { error: portError }).default(9090),
  })
  .prefault({});

export type HealthConfig = z.output<typeof healthSchema>;

export const healthEnv: readonly EnvBinding[] = [
  { env: 'HEALTH_HOST', path: ['health', 'host'] },
  { env: 'HEALTH_PORT', path: ['health', 'port'] },
];
