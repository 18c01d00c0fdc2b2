// One fact, one definition: the facts @fsm-certs/core owns are defined there and nowhere else in
// production code. Copies drift (a float duration parser in config once made every default-validity
// issue request fail), so this scans the production sources of every app, lib and tool.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface Source {
  /** Repo-relative, with forward slashes. */
  readonly file: string;
  readonly text: string;
}

function productionSources(): Source[] {
  const out: Source[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      if (entry === 'node_modules' || entry === 'dist') continue;
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (full.endsWith('.ts') && !full.endsWith('.d.ts') && !/\.test(-helpers)?\.ts$/.test(full)) {
        out.push({ file: path.relative(root, full).split(path.sep).join('/'), text: readFileSync(full, 'utf8') });
      }
    }
  };
  for (const group of ['apps', 'libs', 'tools']) {
    for (const project of readdirSync(path.join(root, group))) {
      const src = path.join(root, group, project, 'src');
      try {
        if (statSync(src).isDirectory()) walk(src);
      } catch {
        // a project without src/
      }
    }
  }
  return out;
}

/** Every match of pattern in every source, as "file: matched text". */
function occurrences(sources: readonly Source[], pattern: RegExp): string[] {
  const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  return sources.flatMap((s) => [...s.text.matchAll(global)].map((m) => `${s.file}: ${m[0].replace(/\s+/g, ' ')}`));
}

const sources = productionSources();
const CORE_DURATION = 'libs/core/src/duration.ts';
const CORE_KEYS = 'libs/core/src/key-algorithm.ts';
const CORE_CLOCK = 'libs/core/src/clock.ts';

describe('one definition of each fact core owns', () => {
  it('scans the production sources of apps, libs and tools', () => {
    const files = sources.map((s) => s.file);
    for (const file of [CORE_DURATION, CORE_KEYS, CORE_CLOCK, 'libs/config/src/schema.ts', 'apps/cli/src/options.ts']) {
      expect(files).toContain(file);
    }
    expect(files.some((f) => f.endsWith('.test.ts'))).toBe(false);
  });

  it('parses Go durations only with core: no other parse…Duration function', () => {
    const parsers = occurrences(sources, /\bfunction\s+parse\w*Duration\w*|\b(?:const|let)\s+parse\w*Duration\w*\s*=/);
    expect(parsers.sort()).toEqual([`${CORE_DURATION}: function parseDuration`, `${CORE_DURATION}: function parseDurationMs`]);
  });

  it('keeps the table of Go duration units only in core', () => {
    // A unit table keys nanoseconds / microseconds (ns: 1, µs: 1e-3, ...) or lists them in a regex.
    const tables = occurrences(sources, /(?:^|[\s{,])['"]?(?:ns|us|µs|μs)['"]?\s*:\s*[\d.]|\bns\|us\b/m).map((o) => o.split(':')[0]);
    expect([...new Set(tables)]).toEqual([CORE_DURATION]);
  });

  it('lists the key algorithms only in core (test emulators may map Vault key types to them)', () => {
    const outsideEmulators = sources.filter((s) => !s.file.startsWith('libs/testing/'));
    // 'ecdsa-p256' as an array element, a union member, or a key of an algorithm table; and RSA
    // size tables such as { 'rsa-2048': 2048 }.
    const lists = occurrences(
      outsideEmulators,
      /\[\s*'ecdsa-p256'|'[\w-]+'\s*,\s*'ecdsa-p256'|'ecdsa-p256'\s*,\s*'[\w-]+'\s*[,\]]|'ecdsa-p256'\s*\||\|\s*'ecdsa-p256'|'(?:ecdsa-p256|rsa-\d+)'\s*:\s*\d/,
    );
    expect(lists).toEqual([`${CORE_KEYS}: ['ecdsa-p256'`]);
  });

  it('defines Clock, systemClock and RandomSource only in core', () => {
    const definitions = occurrences(sources, /\binterface\s+(?:Clock|RandomSource)\b|\btype\s+(?:Clock|RandomSource)\s*=|\b(?:const|let)\s+(?:systemClock|defaultRandom)\b/);
    expect(definitions.sort()).toEqual(
      [
        `${CORE_CLOCK}: interface Clock`,
        `${CORE_CLOCK}: type RandomSource =`,
        `${CORE_CLOCK}: const systemClock`,
        `${CORE_CLOCK}: const defaultRandom`,
      ].sort(),
    );
  });
});
