// A workload reading the agent's directory as fast as it can, in its own process, while the test
// makes the agent renew again and again. Run as: node --import tsx --conditions=development
// agent-reader.test-helpers.ts DIR STOPFILE. Every read resolves ..data once (readCertificateFiles)
// and must give a key that belongs to the certificate and a ca.pem that verifies it; every file
// read through its own top-level link must be whole. Prints `progress N` and a JSON summary.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readCertificateFiles } from '@fsm-certs/agent';

const [dir, stopFile] = process.argv.slice(2);
if (dir === undefined || stopFile === undefined) throw new Error('usage: agent-reader DIR STOPFILE');

let reads = 0;
let mismatched = 0;
let partial = 0;
const serials = new Set<string>();
const problems: string[] = [];

console.log('ready');
while (!existsSync(stopFile) && reads < 1_000_000) {
  const files = await readCertificateFiles(dir);
  if (files !== undefined) {
    reads += 1;
    try {
      const leaf = new X509Certificate(files.cert);
      if (!leaf.checkPrivateKey(createPrivateKey(files.key)) || !leaf.verify(new X509Certificate(files.ca).publicKey)) {
        mismatched += 1;
        if (problems.length < 5) problems.push(`${files.snapshot ?? '-'}: the key, certificate and CA do not belong together`);
      }
      serials.add(leaf.serialNumber);
    } catch (error) {
      partial += 1;
      if (problems.length < 5) problems.push(`${files.snapshot ?? '-'}: ${(error as Error).message}`);
    }
    for (const [name, parse] of [['cert.pem', (t: string) => new X509Certificate(t)], ['key.pem', (t: string) => createPrivateKey(t)], ['ca.pem', (t: string) => new X509Certificate(t)]] as const) {
      try {
        parse(readFileSync(path.join(dir, name), 'utf8'));
      } catch (error) {
        partial += 1;
        if (problems.length < 5) problems.push(`${name} through its link: ${(error as Error).message}`);
      }
    }
    if (reads % 100 === 0) console.log(`progress ${reads}`);
  }
  await new Promise((resolve) => setImmediate(resolve));
}
console.log(JSON.stringify({ reads, mismatched, partial, generations: serials.size, problems }));
