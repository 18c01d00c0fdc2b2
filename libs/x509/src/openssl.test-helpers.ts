// Test-only: run the real openssl binary on files in a private temp dir.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface OpensslResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class TempDir {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'x509-test-'));

  write(name: string, contents: string | Buffer): string {
    const file = path.join(this.dir, name);
    writeFileSync(file, contents);
    return file;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function openssl(args: readonly string[], input?: string): OpensslResult {
  const result = spawnSync('openssl', args, { encoding: 'utf8', input, timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

import { expect } from 'vitest';
import { X509Error } from './errors.js';
import type { X509ErrorCode } from './types.js';

/** Runs fn, asserts it throws an X509Error with `code`, and returns the error for further checks. */
export function expectX509Error(fn: () => unknown, code: X509ErrorCode): X509Error {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  if (!(caught instanceof X509Error)) throw new Error(`expected X509Error ${code}, got ${String(caught)}`);
  expect(caught.code).toBe(code);
  expect(caught.retryable).toBe(false);
  return caught;
}
