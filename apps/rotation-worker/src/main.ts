// rotation-worker: sweeps the renew-time index on a shared BullMQ schedule and enqueues
// rotations. Health endpoints on HEALTH_HOST:HEALTH_PORT; stops cleanly on SIGTERM/SIGINT.
import { runService } from '@fsm-certs/runtime';
import { startRotationWorkerApp } from './app.js';

runService({ name: 'rotation-worker', start: startRotationWorkerApp });
