// A real Vault dev server in a container (Testcontainers 11), for the integration suite and
// `npm run dev:vault`. Only used when a container runtime answers; see detectContainerRuntime.
import { GenericContainer, Wait, getContainerRuntimeClient } from 'testcontainers';
import type { StartedTestContainer } from 'testcontainers';

/** Pinned: the API facts in docs/reference/vault-pki-api.md were checked against 1.17. */
export const VAULT_IMAGE = 'hashicorp/vault:1.17.6';

/** true when Docker/Podman answers within the timeout (no engine runs on the CI machines). */
export async function detectContainerRuntime(timeoutMs = 3_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([getContainerRuntimeClient().then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface VaultContainer {
  readonly address: string;
  readonly rootToken: string;
  /** docker pause / unpause: Vault stops answering but keeps its in-memory state (dev mode has no storage). */
  pause(): Promise<void>;
  unpause(): Promise<void>;
  stop(): Promise<void>;
}

export async function startVaultContainer(options: { rootToken?: string; hostPort?: number } = {}): Promise<VaultContainer> {
  const rootToken = options.rootToken ?? 'root';
  const started: StartedTestContainer = await new GenericContainer(VAULT_IMAGE)
    .withEnvironment({ VAULT_DEV_ROOT_TOKEN_ID: rootToken, VAULT_DEV_LISTEN_ADDRESS: '0.0.0.0:8200' })
    .withAddedCapabilities('IPC_LOCK')
    .withExposedPorts(options.hostPort === undefined ? 8200 : { container: 8200, host: options.hostPort })
    .withWaitStrategy(Wait.forHttp('/v1/sys/health', 8200).forStatusCode(200))
    .start();
  const address = `http://${started.getHost()}:${started.getMappedPort(8200)}`;
  const runtime = await getContainerRuntimeClient();
  const container = runtime.container.getById(started.getId());
  return {
    address,
    rootToken,
    pause: async () => {
      await container.pause();
    },
    unpause: async () => {
      await container.unpause();
    },
    stop: async () => {
      await started.stop();
    },
  };
}
