// Runs on every machine: the apps, each with only its own ServiceAccount's token, against the
// Kubernetes API emulator enforcing the chart's rendered RBAC (rbac-targets.ts). A certificate
// issued through the gateway's TLS endpoint proves the grants are enough; a chart without the
// gateway's Role shows that the enforcement would catch one that is not.
import { beforeAll, describe, expect, it } from 'vitest';
import { CertManagerEmulator, opensslVerify } from '@fsm-certs/testing';
import { createRootCa } from '@fsm-certs/x509';
import { render, type KubeObject } from './helm.js';
import { issueWithChartRbac } from './rbac-run.js';
import { emulatorTarget } from './rbac-targets.js';

const NAMESPACE = 'fsm-system';
/** Three apps start from source (tsx) on a machine shared with other suites: room for slow starts. */
const RUN_TIMEOUT_MS = 300_000;

beforeAll(() => {
  console.info('[chart-tests] RBAC target: the Kubernetes API emulator, authorizing by the rendered RoleBindings');
});

describe("the apps with only their chart RBAC (Kubernetes API emulator enforcing the chart's Roles)", () => {
  it('issues a certificate with Tresor: the ca-service creates the root Secret, the gateway serves TLS for issuer-gateway.<ns>.svc from it', async () => {
    const target = await emulatorTarget(NAMESPACE);
    const objects = render({ namespace: NAMESPACE, set: {} });
    const result = await issueWithChartRbac(target, objects, 'bookstore-v2.bookstore.cluster.local');
    expect(opensslVerify(result.certificatePem, result.caPem).ok).toBe(true);
    expect(target.denied).toEqual([]);
    expect(result.output.filter((line) => /forbidden|Not allowed/i.test(line))).toEqual([]);
  }, RUN_TIMEOUT_MS);

  describe('with cert-manager and a ClusterIssuer', () => {
    let ca: ReturnType<typeof createRootCa>;
    beforeAll(() => {
      ca = createRootCa({ commonName: 'mesh-root.cert-manager.example' });
    });

    it('issues through CertificateRequests with the namespaced Role and the one ClusterIssuer grant', async () => {
      const target = await emulatorTarget(NAMESPACE);
      const certManager = CertManagerEmulator.install(target.emulator);
      try {
        certManager.createCaIssuer({ name: 'mesh-root', kind: 'ClusterIssuer', ca });
        // The operator stores the issuer's root as ca.crt (FSM's cert-manager set-up).
        target.emulator.store.create(target.emulator.secrets, NAMESPACE, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'fsm-ca-bundle', namespace: NAMESPACE },
          data: { 'ca.crt': Buffer.from(ca.certificatePem).toString('base64') },
        });
        const objects = render({ namespace: NAMESPACE, set: { 'fsm.certificateProvider.kind': 'cert-manager', 'fsm.certmanager.issuerKind': 'ClusterIssuer', 'fsm.certmanager.issuerName': 'mesh-root' } });
        const result = await issueWithChartRbac(target, objects, 'bookbuyer.bookbuyer.cluster.local');
        expect(opensslVerify(result.certificatePem, ca.certificatePem).ok).toBe(true);
        expect(target.denied).toEqual([]);
        expect(certManager.listCertificateRequests(NAMESPACE)).toHaveLength(0);
      } finally {
        certManager.stop();
      }
    }, RUN_TIMEOUT_MS);
  });

  it('stops the gateway with a Forbidden error when the chart did not let it read the key-encryption key', async () => {
    const target = await emulatorTarget(NAMESPACE);
    const objects: KubeObject[] = render({ namespace: NAMESPACE, set: {} }).filter((o) => !(o.kind === 'RoleBinding' && o.metadata.name === 'fsm-certs-issuer-gateway'));
    const failure = await issueWithChartRbac(target, objects, 'bookstore-v2.bookstore.cluster.local').then(
      () => 'issued',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    expect(failure).toMatch(/issuer-gateway exited/);
    expect(failure).toMatch(/Not allowed to read Secret fsm-system\/fsm-certs-kek/);
    expect(target.denied).toContain('system:serviceaccount:fsm-system:fsm-certs-issuer-gateway get secrets/fsm-certs-kek');
  }, RUN_TIMEOUT_MS);
});

