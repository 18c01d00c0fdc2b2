// Proof that the chart's RBAC is enough: the apps run as processes, each with the environment
// its Deployment renders and a kubeconfig holding only its own ServiceAccount's token, against
// a Kubernetes API that enforces the chart's Roles, and a certificate is issued through the
// gateway's TLS endpoint. The target is a real cluster (KUBECONFIG) or the emulator with an
// RBAC authorizer built from the rendered Roles (rbac-targets.ts).
import { request } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, startRedisServer, type RedisServerHandle } from '@fsm-certs/queue';
import { AppProcess, type AppName } from '@fsm-certs/stack';
import { eventually } from '@fsm-certs/testing';
import { stringify } from 'yaml';
import { z } from 'zod';
import type { KubeObject } from './helm.js';
import { mainContainer, resolvedEnv, workload } from './manifests.js';

export interface ClusterAccess {
  readonly server: string;
  readonly caData: string | undefined;
  readonly skipTlsVerify: boolean;
}

export interface RbacTarget {
  readonly label: string;
  readonly namespace: string;
  readonly cluster: ClusterAccess;
  /** Creates what the apps expect to find: ServiceAccounts, RBAC, the chart's Secrets. */
  apply(objects: readonly KubeObject[]): Promise<void>;
  /** A bearer token for the ServiceAccount, as a projected token would give the pod. */
  tokenFor(serviceAccount: string): Promise<string>;
  /** A Secret's value, read with the test's own (admin) access. */
  readSecret(name: string, key: string): Promise<string | undefined>;
  close(): Promise<void>;
}

const APPS: readonly AppName[] = ['ca-service', 'issuer-gateway', 'rotation-worker'];

function kubeconfigYaml(cluster: ClusterAccess, token: string | undefined): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'target',
        cluster: {
          server: cluster.server,
          ...(cluster.caData === undefined ? {} : { 'certificate-authority-data': cluster.caData }),
          ...(cluster.skipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
        },
      },
    ],
    // A pod without a mounted token is anonymous to the API server.
    users: [{ name: 'pod', user: token === undefined ? {} : { token } }],
    contexts: [{ name: 'pod', context: { cluster: 'target', user: 'pod' } }],
    'current-context': 'pod',
  });
}

interface HttpsAnswer {
  readonly status: number;
  readonly body: string;
}

/** HTTPS to the gateway, trusting only `caPem` and checking the name issuer-gateway.<ns>.svc. */
function httpsRequest(port: number, servername: string, caPem: string, method: string, urlPath: string, headers: Record<string, string>, body?: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername, ca: caPem, method, path: urlPath, headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface RbacRunResult {
  readonly certificatePem: string;
  readonly caPem: string;
  /** Every output line of the apps, for the assertions about refused calls. */
  readonly output: readonly string[];
}

const issuedSchema = z.object({ certificate: z.string(), chain: z.array(z.string()).default([]) });

/** Runs the three apps with their own ServiceAccounts and issues one certificate through the gateway. */
export async function issueWithChartRbac(target: RbacTarget, objects: readonly KubeObject[], commonName: string): Promise<RbacRunResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fsm-certs-rbac-'));
  const apps: AppProcess[] = [];
  let redis: RedisServerHandle | undefined;
  const output: string[] = [];
  try {
    await target.apply(objects);
    redis = await startRedisServer();
    const gatewayPort = await freePort();
    let adminToken = '';
    for (const app of APPS) {
      const deployment = workload(objects, 'Deployment', `fsm-certs-${app}`);
      const pod = deployment.spec.template.spec;
      const env = resolvedEnv(objects, mainContainer(deployment), target.namespace);
      const account = pod.serviceAccountName;
      if (account === undefined) throw new Error(`${app} has no ServiceAccount`);
      const token = pod.automountServiceAccountToken === true ? await target.tokenFor(account) : undefined;
      const kubeconfig = path.join(dir, `${app}.kubeconfig`);
      writeFileSync(kubeconfig, kubeconfigYaml(target.cluster, token), { mode: 0o600 });
      if (app === 'issuer-gateway') adminToken = env['GATEWAY_ADMIN_TOKEN'] ?? '';
      const processEnv: NodeJS.ProcessEnv = {
        PATH: process.env['PATH'],
        HOME: dir,
        ...env,
        // What differs from a pod: this machine's Redis, loopback listeners, the kubeconfig file
        // standing in for the mounted ServiceAccount token.
        REDIS_URL: redis.url,
        KUBECONFIG: kubeconfig,
        HEALTH_HOST: '127.0.0.1',
        HEALTH_PORT: String(await freePort()),
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: String(gatewayPort),
      };
      apps.push(new AppProcess(app, { env: processEnv, onLine: (label, line) => output.push(`${label}: ${line}`) }));
    }
    const failIfExited = (): void => {
      const dead = apps.find((a) => !a.running);
      if (dead !== undefined) throw new Error(`${dead.label} exited:\n${dead.recentOutput.slice(-20).join('\n')}`);
    };
    const bundleSecret = workload(objects, 'Deployment', 'fsm-certs-ca-service').spec.template.spec.containers[0]?.env.find((v) => v.name === 'FSM_CA_BUNDLE_SECRET_NAME')?.value ?? 'fsm-ca-bundle';
    // The ca-service creates the root (Tresor) or finds it (cert-manager) in the CA bundle Secret.
    const caPem = await eventually(
      async () => {
        failIfExited();
        return target.readSecret(bundleSecret, 'ca.crt');
      },
      90_000,
      `ca.crt in Secret ${target.namespace}/${bundleSecret}`,
      250,
    );
    const servername = `issuer-gateway.${target.namespace}.svc`;
    await eventually(
      async () => {
        failIfExited();
        const answer = await httpsRequest(gatewayPort, servername, caPem, 'GET', '/readyz', {}).catch(() => undefined);
        return answer?.status === 200 ? true : undefined;
      },
      120_000,
      `the gateway's https://${servername}/readyz with the mesh root`,
      250,
    );
    const issued = await httpsRequest(gatewayPort, servername, caPem, 'POST', '/v1/certificates', { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, JSON.stringify({ commonName }));
    if (issued.status !== 201) throw new Error(`issue answered ${issued.status}: ${issued.body}\n${output.slice(-30).join('\n')}`);
    const certificate = issuedSchema.parse(JSON.parse(issued.body));
    return { certificatePem: certificate.certificate, caPem, output };
  } finally {
    for (const app of apps) await app.stop();
    await redis?.stop();
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
