// fsm-certs demo: Tresor on the file store (the embedded default), one service certificate
// through the certificate manager, files under <dataDir>/demo, and the inspection of both.
import path from 'node:path';
import { loadConfig } from '@fsm-certs/config';
import { CertificateManager, createProvider } from '@fsm-certs/providers';
import { buildSpiffeId, formatInspection, inspectCertificate } from '@fsm-certs/x509';
import { ensureOutDir, writePrivate, writePublic } from '../files.js';

export interface DemoArgs {
  readonly out?: string;
}

export async function demo(args: DemoArgs, print: (text: string) => void): Promise<void> {
  // The demo always shows Tresor on files, whatever provider the environment names.
  const config = loadConfig({ env: { ...process.env, CERT_MANAGER: 'tresor', FSM_SECRET_STORE: 'file' } });
  const provider = await createProvider(config);
  const manager = new CertificateManager({
    provider,
    validityMs: config.certificateProvider.serviceCertValidityMs,
    keyAlgorithm: config.certificateProvider.keyAlgorithm,
  });
  const commonName = `bookstore-v2.bookstore.${config.trustDomain}`;
  const cert = await manager.issue(commonName, { uris: [buildSpiffeId(config.trustDomain, 'bookstore', 'bookstore-v2')] });
  const out = args.out ?? path.join(config.secretStore.dataDir, 'demo');
  ensureOutDir(out);
  writePublic(path.join(out, 'ca.pem'), cert.issuingCaPem);
  writePublic(path.join(out, 'cert.pem'), cert.certificatePem);
  if (cert.privateKeyPem !== undefined) writePrivate(path.join(out, 'key.pem'), cert.privateKeyPem);
  const secretFile = path.join(config.secretStore.dataDir, 'secrets', config.namespace, `${config.caBundleSecretName}.json`);
  print(`Root CA (Tresor, secret ${config.namespace}/${config.caBundleSecretName} in ${secretFile}):\n`);
  print(formatInspection(inspectCertificate(cert.issuingCaPem)));
  print(`\nService certificate ${commonName} (renews at ${cert.renewAt.toISOString()}), written to ${out}:\n`);
  print(formatInspection(inspectCertificate(cert.certificatePem)));
  print(`\nCheck it yourself: openssl verify -CAfile ${path.join(out, 'ca.pem')} ${path.join(out, 'cert.pem')}\n`);
  await manager.close();
  await provider.close();
}
