// The load client's HTTP: node:http over keep-alive connections. It costs the machine far less
// CPU per request than fetch (undici), so the load generator takes less of the cores it shares
// with the system under test.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export interface PostAnswer {
  readonly status: number;
  /** The parsed JSON body. */
  readonly body: unknown;
}

/** POSTs `payload` as JSON and resolves with the status and the parsed body (rejects on a non-JSON body). */
export function postJson(url: string, payload: unknown, headers: Readonly<Record<string, string>> = {}): Promise<PostAnswer> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
