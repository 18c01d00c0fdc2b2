// The system with CERT_MANAGER=cert-manager against the Kubernetes + cert-manager emulator:
// CertificateRequests are created, signed by a CA issuer, read back, and deleted.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayRequestError } from '@fsm-certs/client';
import { CertManagerEmulator, KubernetesEmulator, opensslVerify, opensslX509 } from '@fsm-certs/testing';
import { createCsr, createRootCa, generateKeyPair } from '@fsm-certs/x509';
import { startHarness, type Harness } from './harness.js';

describe('the system with the cert-manager provider (Kubernetes emulator)', () => {
  let kube: KubernetesEmulator;
  let certManager: CertManagerEmulator;
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    kube = await KubernetesEmulator.start();
    certManager = CertManagerEmulator.install(kube);
    const ca = createRootCa({ commonName: 'mesh-ca.cert-manager.example' });
    certManager.createCaIssuer({ name: 'fsm-ca', namespace: 'fsm-system', ca });
    kube.store.create(kube.secrets, 'fsm-system', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'fsm-ca-bundle', namespace: 'fsm-system' },
      type: 'Opaque',
      data: { 'ca.crt': Buffer.from(ca.certificatePem).toString('base64') },
    });
    dir = mkdtempSync(path.join(tmpdir(), 'fsm-kube-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kube.kubeconfigYaml(), { mode: 0o600 });
    // In a cluster the key-encryption key comes from the operator (a Secret mounted as env).
    h = await startHarness({
      env: {
        CERT_MANAGER: 'cert-manager',
        KUBECONFIG: kubeconfig,
        FSM_SECRET_STORE: 'kubernetes',
        FSM_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      },
    });
  }, 150_000);
  afterAll(async () => {
    await h?.close();
    await kube?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('issues in both modes through CertificateRequests, verified by openssl, leaving none behind', async () => {
    const rootPem = await h.client.trustBundlePem();
    expect(opensslX509(rootPem, ['-subject'])).toMatch(/mesh-ca\.cert-manager\.example/);
    const serverKey = await h.client.issue({ commonName: 'bookstore-v2.bookstore.cluster.local' });
    expect(serverKey.privateKey).toBeDefined();
    expect(opensslVerify(serverKey.certificate, rootPem, { chainPem: serverKey.chain }).ok).toBe(true);
    // cert-manager signs a CSR as it is, so its subject must already be the authorised identity.
    const keyPair = generateKeyPair('ecdsa-p256');
    const mismatched = createCsr({ commonName: 'someone-else.example', keyPair });
    const refused = await h.client.issue({ commonName: 'bookbuyer.bookbuyer.cluster.local', csr: mismatched }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayRequestError);
    expect((refused as GatewayRequestError).status).toBe(400);
    const csr = createCsr({ commonName: 'bookbuyer.bookbuyer.cluster.local', keyPair });
    const signed = await h.client.issue({ commonName: 'bookbuyer.bookbuyer.cluster.local', csr });
    expect(signed.privateKey).toBeUndefined();
    expect(opensslVerify(signed.certificate, rootPem, { chainPem: signed.chain }).ok).toBe(true);
    expect(certManager.listCertificateRequests('fsm-system')).toHaveLength(0);
  });

  it('rotates on request through a new CertificateRequest', async () => {
    const first = await h.client.issue({ commonName: 'reviews.bookstore.cluster.local' });
    const rotated = await h.client.rotate('reviews.bookstore.cluster.local');
    expect(rotated.serialNumber).not.toBe(first.serialNumber);
    expect(certManager.listCertificateRequests('fsm-system')).toHaveLength(0);
  });
});
