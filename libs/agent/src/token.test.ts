import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readToken } from './token.js';

const dir = mkdtempSync(path.join(tmpdir(), 'fsm-agent-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readToken', () => {
  it('reads the token file again on every call, so a token the kubelet rotated is used at once', async () => {
    const file = path.join(dir, 'token');
    writeFileSync(file, 'first-token\n');
    expect(await readToken({ tokenFile: file })).toBe('first-token');
    writeFileSync(file, 'second-token');
    expect(await readToken({ tokenFile: file })).toBe('second-token');
  });

  it.each([
    { why: 'a missing file', content: undefined, message: /cannot read the token file .* \(ENOENT\)/ },
    { why: 'an empty file', content: ' \n', message: /is empty/ },
    { why: 'a file with two words', content: 'a b', message: /more than one word/ },
  ])('fails with TOKEN_UNREADABLE for $why, without echoing the content', async ({ content, message }) => {
    const file = path.join(dir, `t-${Math.random()}`);
    if (content !== undefined) writeFileSync(file, content);
    const error = await readToken({ tokenFile: file }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('TOKEN_UNREADABLE');
    expect((error as Error).message).toMatch(message);
    if (content === 'a b') expect((error as Error).message).not.toContain('a b');
  });
});
