// File helpers for the offline commands: private keys are written 0600, directories 0700.
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { CliInputError } from './errors.js';

export function ensureOutDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function writePublic(file: string, content: string): void {
  writeFileSync(file, content, { mode: 0o644 });
}

export function writePrivate(file: string, content: string): void {
  writeFileSync(file, content, { mode: 0o600 });
  // writeFileSync keeps an existing file's mode: make sure a key is never left readable.
  chmodSync(file, 0o600);
}

export function readInput(file: string, what: string, hint: string): string {
  if (!existsSync(file)) throw new CliInputError(`${what} not found: ${file}; ${hint}`);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliInputError(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

export function refuseOverwrite(files: readonly string[], force: boolean): void {
  if (force) return;
  const existing = files.filter((f) => existsSync(f));
  if (existing.length > 0) {
    throw new CliInputError(`${existing.map((f) => path.basename(f)).join(', ')} already exist(s) in ${path.dirname(existing[0] ?? '.')}; choose another --out or pass --force`);
  }
}
