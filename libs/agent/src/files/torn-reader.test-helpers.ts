// A separate process that reads an agent directory as fast as it can while the test rewrites
// it, and counts what it sees. Run as: node --import tsx reader.ts DIR STOPFILE.
//  - through readCertificateFiles (resolve ..data once): every triple must be consistent — the
//    key belongs to the certificate and ca.pem holds the CA that signed it (each generation the
//    test writes has its own CA);
//  - through the top-level links, one file at a time: every file must be whole (parses).
// Prints `progress <reads>` lines while running and one JSON summary line at the end.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readCertificateFiles } from './reader.js';

const [dir, stopFile] = process.argv.slice(2);
if (dir === undefined || stopFile === undefined) throw new Error('usage: torn-reader DIR STOPFILE');

let reads = 0;
let mismatched = 0;
let partial = 0;
let missing = 0;
let linkMismatched = 0;
const serials = new Set<string>();
const problems: string[] = [];

function consistent(cert: string, key: string, ca: string): boolean {
  const leaf = new X509Certificate(cert);
  return leaf.checkPrivateKey(createPrivateKey(key)) && leaf.verify(new X509Certificate(ca).publicKey);
}

function wholeFile(file: string, parse: (text: string) => unknown): boolean {
  try {
    parse(readFileSync(file, 'utf8'));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true; // not written yet
    return false;
  }
}

console.log('ready');
while (!existsSync(stopFile) && reads < 1_000_000) {
  const files = await readCertificateFiles(dir);
  if (files === undefined) {
    missing += 1;
    continue;
  }
  reads += 1;
  try {
    if (!consistent(files.cert, files.key, files.ca)) {
      mismatched += 1;
      if (problems.length < 5) problems.push(`snapshot ${files.snapshot ?? '-'}: key/cert/ca do not belong together`);
    }
    serials.add(new X509Certificate(files.cert).serialNumber);
  } catch (error) {
    partial += 1;
    if (problems.length < 5) problems.push(`snapshot ${files.snapshot ?? '-'}: ${(error as Error).message}`);
  }
  // The naive way: each link opened on its own. Whole files, always; pairs, only by luck.
  const certOk = wholeFile(path.join(dir, 'cert.pem'), (t) => new X509Certificate(t));
  const keyOk = wholeFile(path.join(dir, 'key.pem'), (t) => createPrivateKey(t));
  const caOk = wholeFile(path.join(dir, 'ca.pem'), (t) => new X509Certificate(t));
  if (!certOk || !keyOk || !caOk) {
    partial += 1;
    if (problems.length < 5) problems.push('a file read through its top-level link was not whole');
  }
  try {
    const cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    const key = readFileSync(path.join(dir, 'key.pem'), 'utf8');
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) linkMismatched += 1;
  } catch {
    // counted above
  }
  if (reads % 200 === 0) console.log(`progress ${reads}`);
  // Let the event loop breathe so the stop file check and stdout keep up.
  await new Promise((resolve) => setImmediate(resolve));
}
console.log(JSON.stringify({ reads, mismatched, partial, missing, generations: serials.size, linkMismatched, problems }));
