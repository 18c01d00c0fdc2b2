// Against a real cluster, only when KUBECONFIG is set (otherwise every test here is reported as
// skipped): the rendered chart passes a server-side dry-run apply, then the apps run as local
// processes, each with a token of its own ServiceAccount (TokenRequest API) bound by the chart's
// real Roles, and issue a certificate. The cluster checks the RBAC; nothing here imitates it.
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { opensslVerify } from '@fsm-certs/testing';
import { describe, expect, it } from 'vitest';
import { render, type SetValues } from './helm.js';
import { issueWithChartRbac } from './rbac-run.js';
import { clusterTarget } from './rbac-targets.js';

const RUN_TIMEOUT_MS = 300_000;

const kubeconfigPath = process.env['KUBECONFIG'];
const haveCluster = kubeconfigPath !== undefined && kubeconfigPath !== '';

function kubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromDefault();
  return config;
}

const label = haveCluster ? `the cluster of KUBECONFIG=${kubeconfigPath} (${kubeConfig().getCurrentCluster()?.server ?? '?'})` : 'a real cluster: skipped, KUBECONFIG is not set';
console.info(`[chart-tests] cluster suite target: ${label}`);

function freshNamespace(): string {
  return `fsm-certs-chart-${randomBytes(4).toString('hex')}`;
}

describe.skipIf(!haveCluster)(`the chart on ${label}`, () => {
  it('passes a server-side dry-run apply of every object it renders, for each provider', async () => {
    const providers: SetValues[] = [{}, { 'fsm.certificateProvider.kind': 'vault', 'fsm.vault.host': 'vault.example', 'fsm.vault.token': 't' }, { 'fsm.certificateProvider.kind': 'cert-manager' }];
    for (const set of providers) {
      const namespace = freshNamespace();
      const target = await clusterTarget(kubeConfig(), namespace);
      try {
        const objects = render({ namespace, set });
        const applied = await target.dryRunApply(objects);
        expect(applied).toHaveLength(objects.length);
      } finally {
        await target.close();
      }
    }
  }, RUN_TIMEOUT_MS);

  it("issues a certificate with the apps holding only their own ServiceAccounts' tokens (Tresor)", async () => {
    const namespace = freshNamespace();
    const target = await clusterTarget(kubeConfig(), namespace);
    console.info(`[chart-tests] ${target.label}`);
    const result = await issueWithChartRbac(target, render({ namespace, set: {} }), 'bookstore-v2.bookstore.cluster.local');
    expect(opensslVerify(result.certificatePem, result.caPem).ok).toBe(true);
    expect(result.output.filter((line) => /forbidden|Not allowed/i.test(line))).toEqual([]);
  }, RUN_TIMEOUT_MS);
});
