// Binding and closing a listener the way every service of the project does.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeNow, listenOn, localUrl } from './listen.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) if (server.listening) await closeNow(server);
});

function helloServer(): http.Server {
  const server = http.createServer((_req, res) => res.end('hello'));
  servers.push(server);
  return server;
}

describe('listenOn', () => {
  it('binds a wildcard address on a free port and reports the loopback URL a local client reaches it by', async () => {
    const { url, port } = await listenOn(helloServer(), '0.0.0.0', 0);
    expect(port).toBeGreaterThan(0);
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(await (await fetch(url)).text()).toBe('hello');
  });

  it('rejects with EADDRINUSE for a port already taken, leaving the first server serving', async () => {
    const first = await listenOn(helloServer(), '127.0.0.1', 0);
    await expect(listenOn(helloServer(), '127.0.0.1', first.port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(await (await fetch(first.url)).text()).toBe('hello');
  });
});

describe('localUrl', () => {
  it.each([
    ['http', '0.0.0.0', 8080, 'http://127.0.0.1:8080'],
    ['https', '::', 8443, 'https://127.0.0.1:8443'],
    ['http', '::1', 9090, 'http://[::1]:9090'],
    ['https', '10.1.2.3', 443, 'https://10.1.2.3:443'],
    ['http', 'localhost', 80, 'http://localhost:80'],
  ] as const)('%s on %s:%d is %s', (scheme, host, port, url) => {
    expect(localUrl(scheme, host, port)).toBe(url);
  });
});

describe('closeNow', () => {
  it('closes a server while a client holds an idle keep-alive connection to it', async () => {
    const server = helloServer();
    server.keepAliveTimeout = 600_000;
    const { port } = await listenOn(server, '127.0.0.1', 0);
    const agent = new http.Agent({ keepAlive: true });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, agent }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      expect(body).toBe('hello');
      // The socket stays pooled in the agent: a plain close() would wait for its idle timeout.
      expect(Object.keys(agent.freeSockets)).toHaveLength(1);
      await closeNow(server);
      expect(server.listening).toBe(false);
    } finally {
      agent.destroy();
    }
  });
});
