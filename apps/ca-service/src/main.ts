// ca-service: the only process with signing power. Consumes the issue and rotate queues; health
// endpoints on HEALTH_HOST:HEALTH_PORT; stops within WORKER_SHUTDOWN_TIMEOUT on SIGTERM/SIGINT.
import { runService } from '@fsm-certs/runtime';
import { startCaServiceApp } from './app.js';

runService({ name: 'ca-service', start: startCaServiceApp });
