// One Prometheus registry per process, with Node's process metrics (CPU, memory, event-loop lag,
// GC) registered on it; each service adds its own metrics to the same registry.
import { Registry, collectDefaultMetrics } from 'prom-client';

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
