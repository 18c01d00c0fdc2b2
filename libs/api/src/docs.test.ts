// docs/http-api.md stays true to the contract: its error table is PROBLEM_CODES, its issue field
// table lists exactly the request schema's fields, and it names exactly the operations served.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OPERATIONS, type OperationSpec } from './operations.js';
import { PROBLEM_CODES } from './problems.js';
import { issueRequestSchema } from './requests.js';

const doc = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/http-api.md'), 'utf8');

/** The rows of the markdown table whose header line is `header`. */
function tableAfter(header: string): string[] {
  const lines = doc.split('\n');
  const start = lines.indexOf(header);
  expect(start, `table "${header}" in docs/http-api.md`).toBeGreaterThanOrEqual(0);
  const rows: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line);
  }
  return rows;
}

describe('docs/http-api.md', () => {
  it('lists every error code with its status and meaning, and no other', () => {
    const expected = Object.entries(PROBLEM_CODES)
      .sort((a, b) => a[1].status - b[1].status)
      .map(([code, info]) => `| ${info.status} | \`${code}\` | ${info.when} |`);
    expect(tableAfter('| status | code | when |')).toEqual(expected);
  });

  it('describes exactly the fields of the issue request', () => {
    const fields = tableAfter('| field | |').map((row) => /^\| `(\w+)` \|/.exec(row)?.[1]);
    expect(fields.sort()).toEqual(Object.keys(issueRequestSchema.shape).sort());
  });

  it('names every operation of the contract, and only those', () => {
    const named = new Set([...doc.matchAll(/`(GET|POST|DELETE|PUT|PATCH) (\/[^`?\s]*)/g)].map((m) => `${m[1]} ${m[2]}`));
    const served = new Set((Object.values(OPERATIONS) as OperationSpec[]).map((op) => `${op.method.toUpperCase()} ${op.path}`));
    expect([...named].sort()).toEqual([...served].sort());
  });
});
