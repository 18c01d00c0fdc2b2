// zlint, a linter nobody here wrote, reads what we issue against the RFCs: RFC 5280 (profile),
// RFC 5480 / 8813 (EC keys and their usages), RFC 3279 (algorithms), RFC 5891 (DNS names). An
// `error` or `fatal` result fails the test; warnings and notices are printed. Without zlint the
// suite fails, saying how to install it: tools/test-tools/install-zlint.sh (CI runs it).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseCsr } from './csr.js';
import { issueLeaf } from './leaf.js';
import { createRootCa } from './root-ca.js';
import { openssl, TempDir } from './openssl.test-helpers.js';

const SOURCES = ['RFC5280', 'RFC5480', 'RFC3279', 'RFC5891', 'RFC8813'];
const PROJECT_ZLINT = fileURLToPath(new URL('../../../.tools/bin/zlint', import.meta.url));
const INSTALL_HINT = 'zlint is not installed: run tools/test-tools/install-zlint.sh (needs Go >= 1.25; CI runs it), or put zlint on PATH';
const DAY = 86_400_000;

/** The project's pinned zlint, else one on PATH; undefined when there is none. */
function findZlint(): string | undefined {
  if (existsSync(PROJECT_ZLINT)) return PROJECT_ZLINT;
  const onPath = spawnSync('zlint', ['-version'], { encoding: 'utf8' });
  return onPath.error === undefined && onPath.status === 0 ? 'zlint' : undefined;
}

const zlintReport = z.record(z.string(), z.object({ result: z.string(), details: z.string().optional() }));
type Finding = { readonly lint: string; readonly result: string; readonly details?: string };

function lint(zlint: string, file: string): Finding[] {
  const run = spawnSync(zlint, ['-includeSources', SOURCES.join(','), file], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) throw new Error(`zlint failed on ${file} (exit ${String(run.status)}): ${run.stderr}`);
  const report = zlintReport.parse(JSON.parse(run.stdout));
  return Object.entries(report)
    .filter(([, outcome]) => !['pass', 'NA', 'NE'].includes(outcome.result))
    .map(([name, outcome]) => ({ lint: name, result: outcome.result, ...(outcome.details === undefined ? {} : { details: outcome.details }) }));
}

const temp = new TempDir();
afterAll(() => temp.remove());

/** A CSR made by openssl (not by us), as a workload would send it; only its key is certified. */
function opensslCsrPem(keySpec: readonly string[]): string {
  const out = `${temp.dir}/workload-${Math.random()}.csr`;
  const made = openssl(['req', '-new', ...keySpec, '-nodes', '-keyout', `${out}.key`, '-subj', '/CN=workload.example', '-out', out]);
  if (made.status !== 0) throw new Error(`openssl req failed: ${made.stderr}`);
  return readFileSync(out, 'utf8');
}

const ecRoot = createRootCa({ validityMs: 40 * 365 * DAY });
const rsaRoot = createRootCa({ keyAlgorithm: 'rsa-2048' });
const service = {
  commonName: 'bookstore-v2.bookstore.cluster.local',
  dnsNames: ['bookstore-v2.bookstore', 'bookstore-v2.bookstore.svc'],
  uris: ['spiffe://cluster.local/ns/bookstore/sa/bookstore-v2'],
  ipAddresses: ['10.0.0.7', '2001:db8::7'],
  validityMs: DAY,
};
const cases: ReadonlyArray<readonly [string, string]> = [
  ['the ECDSA P-256 root', ecRoot.certificatePem],
  ['the RSA 2048 root', rsaRoot.certificatePem],
  ['an EC leaf with DNS, SPIFFE URI and IP SANs', issueLeaf(ecRoot.issuer, service).certificatePem],
  ['an RSA leaf signed by the RSA root', issueLeaf(rsaRoot.issuer, { ...service, keyAlgorithm: 'rsa-2048' }).certificatePem],
  ['an RSA 3072 leaf signed by the EC root', issueLeaf(ecRoot.issuer, { ...service, keyAlgorithm: 'rsa-3072' }).certificatePem],
  [
    'a CSR-mode leaf for an openssl EC CSR',
    issueLeaf(ecRoot.issuer, { ...service, publicKey: parseCsr(opensslCsrPem(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'])).publicKey }).certificatePem,
  ],
  [
    'a CSR-mode leaf for an openssl RSA CSR',
    issueLeaf(ecRoot.issuer, { ...service, publicKey: parseCsr(opensslCsrPem(['-newkey', 'rsa:2048'])).publicKey }).certificatePem,
  ],
  ['a leaf valid past 2050 (GeneralizedTime)', issueLeaf(ecRoot.issuer, { ...service, validityMs: 30 * 365 * DAY }).certificatePem],
];

describe(`zlint (${SOURCES.join(', ')}) finds no error in what we issue`, () => {
  const zlint = findZlint();

  it.each(cases)('%s', (name, pem) => {
    if (zlint === undefined) throw new Error(INSTALL_HINT);
    const findings = lint(zlint, temp.write(`${name.replace(/\W+/g, '-')}.pem`, pem));
    for (const f of findings.filter((x) => x.result !== 'error' && x.result !== 'fatal')) {
      console.log(`[zlint] ${name}: ${f.result} ${f.lint}${f.details === undefined ? '' : ` (${f.details})`}`);
    }
    expect(findings.filter((f) => f.result === 'error' || f.result === 'fatal')).toEqual([]);
  });

  it('flags what it should: an EC certificate with keyEncipherment is an e_ecdsa_allowed_ku error', () => {
    if (zlint === undefined) throw new Error(INSTALL_HINT);
    const key = `${temp.dir}/bad-ku.key`;
    const cert = `${temp.dir}/bad-ku.pem`;
    const made = openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', '/CN=bad-ku.example',
      '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment', '-days', '1', '-out', cert]);
    expect(made.status, made.stderr).toBe(0);
    expect(lint(zlint, cert)).toContainEqual(expect.objectContaining({ lint: 'e_ecdsa_allowed_ku', result: 'error' }));
  });
});
