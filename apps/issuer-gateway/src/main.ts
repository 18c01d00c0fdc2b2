// issuer-gateway: the HTTP API (with /healthz, /readyz and /metrics on its own port); stops
// within WORKER_SHUTDOWN_TIMEOUT on SIGTERM/SIGINT.
import { runService } from '@fsm-certs/runtime';
import { startGatewayApp } from './app.js';

runService({ name: 'issuer-gateway', healthServer: false, start: startGatewayApp });
