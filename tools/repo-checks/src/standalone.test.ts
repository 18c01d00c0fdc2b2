// The repository stands alone: what a reader finds in it (README, docs, code comments, configs)
// never sends them to a file outside it — not to design notes beside the checkout, not to one
// engineer's machine, not up past the repository root with '../'. Markdown links inside the repo
// must lead to a file or folder that exists.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, repositoryFiles } from './workspace.test-helpers.js';

const SELF = 'tools/repo-checks/src/standalone.test.ts';

interface Finding {
  readonly file: string;
  readonly line: number;
  readonly problem: string;
}

/**
 * The sibling folder beside the repository that held the design documents. Spelled in parts so
 * this check's own source does not itself point outside the repository.
 */
const SIBLING = ['..', 'shar' + 'ed'].join('/');

/** References to documents that live outside the repository, or to paths on someone's machine. */
const OUTSIDE_REFERENCES: ReadonlyArray<readonly [RegExp, string]> = [
  [new RegExp(`${SIBLING.replace(/\./g, '\\.')}\\b`), `points at ${SIBLING}, outside the repository`],
  [/(?:^|[\s'"`(])\/?shared\/(?:contracts|DESIGN|STYLE|SEED)/, 'points at the shared design folder, outside the repository'],
  [/\bDESIGN(?:\.md\b|\s*§)/, 'cites DESIGN.md; cite docs/architecture.md or docs/adr/ instead'],
  [/\bSTYLE\.md\b/, 'cites STYLE.md, which is not in the repository'],
  [/\bSEED-[\w-]+\.txt\b/, 'cites the seed document, which is not in the repository; name FSM\'s documentation instead'],
  [/\bthe seed\b/i, 'says "the seed" (a document outside the repository); name FSM or its documentation instead'],
  [/(?:^|[\s'"`(=])\/(?:work|home|Users)\/[\w.-]/, 'names an absolute path on a development machine'],
];

/** A run of `..` segments, e.g. `../../x`: how far up it climbs. */
const PARENT_RUN = /(?<![\w.~/-])\.\.(?:\/\.\.)*(?=\/|['"`)\s,;:]|$)/g;

/** `[text](target)` in Markdown, target without a scheme or an in-page anchor. */
const MARKDOWN_LINK = /\]\(([^)\s]+)\)/g;

function isBinary(content: Buffer): boolean {
  return content.subarray(0, 8000).includes(0);
}

/** Problems in one file's text; `exists` answers whether a repository-relative path exists. */
function findOutsideReferences(file: string, text: string, exists: (repoPath: string) => boolean): Finding[] {
  const findings: Finding[] = [];
  const dir = path.posix.dirname(file);
  const depth = dir === '.' ? 0 : dir.split('/').length;
  const lines = text.split('\n');
  lines.forEach((lineText, index) => {
    const line = index + 1;
    for (const [pattern, problem] of OUTSIDE_REFERENCES) {
      if (pattern.test(lineText)) findings.push({ file, line, problem });
    }
    for (const match of lineText.matchAll(PARENT_RUN)) {
      const climbs = match[0].split('/').length;
      if (climbs > depth) findings.push({ file, line, problem: `"${match[0]}" climbs ${climbs} level(s) from ${dir}/, above the repository root` });
    }
    if (!file.endsWith('.md')) return;
    for (const match of lineText.matchAll(MARKDOWN_LINK)) {
      const target = (match[1] ?? '').split('#')[0] ?? '';
      if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const resolved = path.posix.normalize(path.posix.join(dir, decodeURIComponent(target)));
      if (resolved.startsWith('../') || resolved === '..' || target.startsWith('/')) {
        findings.push({ file, line, problem: `links to ${target}, outside the repository` });
      } else if (!exists(resolved)) {
        findings.push({ file, line, problem: `links to ${target}, which does not exist (${resolved})` });
      }
    }
  });
  return findings;
}

describe('findOutsideReferences', () => {
  const none = (): boolean => false;
  const problems = (file: string, text: string, exists: (p: string) => boolean = none): string[] =>
    findOutsideReferences(file, text, exists).map((f) => `${f.line}: ${f.problem}`);

  it('flags what the README used to say about the design', () => {
    expect(problems('README.md', `See \`${SIBLING}/DESIGN.md\` for the design.`)).toEqual([
      `1: points at ${SIBLING}, outside the repository`,
      '1: cites DESIGN.md; cite docs/architecture.md or docs/adr/ instead',
      '1: ".." climbs 1 level(s) from ./, above the repository root',
    ]);
  });

  it('flags design section numbers, contract files and "the seed" in code comments', () => {
    const text = [
      '// DESIGN §3: anything shorter is refused',
      `// (see /${SIBLING.slice(3)}/contracts/vault-pki.md)`,
      "/** Options with the seed's defaults */",
      '// The architecture rules (STYLE.md)',
      `// home: /work/${SIBLING.slice(3)}/x`,
    ].join('\n');
    expect(problems('libs/x/src/a.ts', text).map((p) => p.split(':')[0])).toEqual(['1', '2', '3', '4', '5']);
  });

  it('allows relative paths that stay inside the repository and flags the ones that leave it', () => {
    expect(problems('tools/repo-checks/src/a.ts', "path.resolve(here, '../../..')")).toEqual([]);
    expect(problems('libs/x/vitest.config.ts', "import { c } from '../../vitest.shared.js';")).toEqual([]);
    expect(problems('libs/x/tsconfig.json', '{ "extends": "../../../base.json" }')).toEqual([
      '1: "../../.." climbs 3 level(s) from libs/x/, above the repository root',
    ]);
  });

  it('checks that Markdown links lead to files in the repository', () => {
    const exists = (p: string): boolean => p === 'docs/adr/0001-der-writer.md';
    expect(problems('docs/architecture.md', 'See [the ADR](adr/0001-der-writer.md#context).', exists)).toEqual([]);
    expect(problems('docs/architecture.md', 'See [gone](adr/9999-missing.md).', exists)).toEqual([
      '1: links to adr/9999-missing.md, which does not exist (docs/adr/9999-missing.md)',
    ]);
    expect(problems('README.md', '[web](https://example.com/a/../b) and [anchor](#top)', exists)).toEqual([]);
  });
});

describe('the repository stands alone', () => {
  const files = repositoryFiles();

  it('sees the files a reader starts from', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md', 'package.json']));
  });

  it('never points at a file outside the repository (README, docs, code, configs)', () => {
    const known = new Set(files);
    const dirs = new Set(files.flatMap((f) => f.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
    const exists = (p: string): boolean => known.has(p) || dirs.has(p.replace(/\/$/, ''));
    const findings: string[] = [];
    for (const file of files) {
      // Generated by npm; and this file, which must spell out what it looks for.
      if (file === 'package-lock.json' || file === SELF) continue;
      const content = readFileSync(path.join(repoRoot, file));
      if (isBinary(content)) continue;
      for (const f of findOutsideReferences(file, content.toString('utf8'), exists)) findings.push(`${f.file}:${f.line}: ${f.problem}`);
    }
    expect(findings).toEqual([]);
  });
});
