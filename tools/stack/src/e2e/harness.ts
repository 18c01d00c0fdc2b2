// Shared set-up for the end-to-end suites: a stack in a temp dir plus a typed client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GatewayClient } from '@fsm-certs/client';
import { startStack, type Stack, type StackOptions } from '../stack.js';

export interface Harness {
  readonly stack: Stack;
  readonly client: GatewayClient;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<StackOptions> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-e2e-'));
  const verbose = process.env['FSM_E2E_VERBOSE'] === '1';
  const stack = await startStack({
    dataDir,
    ...options,
    env: { LOG_LEVEL: verbose ? 'debug' : 'warn', ...options.env },
    ...(verbose ? { onLine: (app: string, line: string) => console.log(`[${app}] ${line}`) } : {}),
  });
  try {
    await stack.waitReady(90_000);
  } catch (error) {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const client = new GatewayClient({ baseUrl: stack.gatewayUrl, token: stack.adminToken });
  return {
    stack,
    client,
    async close() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export { eventually } from '@fsm-certs/testing';
