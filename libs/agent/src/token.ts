// The bearer token the agent presents. A projected ServiceAccount token file is rotated by the
// kubelet (it rewrites the file, through the same ..data symlink swap this agent uses), so the
// file is read again for every request instead of once at start.
import { readFile } from 'node:fs/promises';
import { AgentError } from './errors.js';

export type TokenSource = { readonly token: string } | { readonly tokenFile: string };

export async function readToken(source: TokenSource): Promise<string> {
  if ('token' in source) return source.token;
  let text: string;
  try {
    text = await readFile(source.tokenFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new AgentError('TOKEN_UNREADABLE', `cannot read the token file ${source.tokenFile} (${code}); mount the ServiceAccount token there or pass --token-file with the right path`, { cause: error });
  }
  const token = text.trim();
  if (token === '') throw new AgentError('TOKEN_UNREADABLE', `the token file ${source.tokenFile} is empty; the kubelet may not have written it yet`);
  if (/\s/.test(token)) throw new AgentError('TOKEN_UNREADABLE', `the token file ${source.tokenFile} holds more than one word; it must hold only the token`);
  return token;
}
