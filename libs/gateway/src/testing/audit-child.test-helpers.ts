// A gateway in a process of its own (the harness's, on the Redis named by REDIS_URL, keys under
// PREFIX), for tests that kill it with SIGKILL. Prints `port <n>` once it listens.
import { createRedisConnection } from '@fsm-certs/queue';
import { createRootCa } from '@fsm-certs/x509';
import { startHarness } from './harness.test-helpers.js';

const url = process.env['REDIS_URL'];
const prefix = process.env['PREFIX'];
if (url === undefined || prefix === undefined) throw new Error('REDIS_URL and PREFIX are required');
const redis = createRedisConnection(url, { role: 'client' });
const h = await startHarness({ redis, ca: createRootCa() }, { prefix });
process.stdout.write(`port ${new URL(h.baseUrl).port}\n`);
