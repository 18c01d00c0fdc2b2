// What the CLI's in-process tests share: an io that records what the CLI writes, scratch
// directories, a CA file for --ca / --ca-file, and a recorder of self-relaunches.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { createRootCa } from '@fsm-certs/x509';
import type { CliIo } from './io.js';

export type RecordingIo = CliIo & { readonly out: string[]; readonly err: string[] };

/** An io whose stdout / stderr are kept in `out` / `err`; no env, a cwd that does not exist, a fixed clock. */
export function recordingIo(overrides: Partial<CliIo> = {}): RecordingIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: {},
    cwd: '/nonexistent-fsm-cwd',
    signal: new AbortController().signal,
    now: () => new Date('2026-01-01T00:00:00Z'),
    ...overrides,
  };
}

/** A scratch directory, removed after the file's tests (call at a file's or describe's top level). */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a fresh root certificate as `dir/name`, for --ca / --ca-file; returns its path. */
export function writeCaFile(dir: string, name = 'ca.pem'): string {
  const file = path.join(dir, name);
  writeFileSync(file, createRootCa({}).certificatePem);
  return file;
}

/** Stands in for the CLI relaunching itself to trust a CA file: records the file, answers `exitCode`. */
export function relaunchRecorder(exitCode: number): { readonly relaunched: string[]; relaunchTrusting(file: string): Promise<number> } {
  const relaunched: string[] = [];
  return {
    relaunched,
    relaunchTrusting: (file) => {
      relaunched.push(file);
      return Promise.resolve(exitCode);
    },
  };
}
