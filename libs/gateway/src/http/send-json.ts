// Writes a JSON response in one writeHead + end. express's res.status().location().json() runs
// content-type negotiation helpers, charset handling and freshness checks this API never needs
// on its hot route; the bytes on the wire are the same (application/json; charset=utf-8).
import type { ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown, location?: string): void {
  sendJsonText(res, status, JSON.stringify(body), location);
}

/**
 * sendJson for a body already written as JSON text. With `requestId`, the X-Request-Id header is
 * sent first, as res.setHeader before writeHead would send it: the whole head is then one flat
 * list, which node writes as it is instead of merging it into headers set earlier.
 */
export function sendJsonText(res: ServerResponse, status: number, payload: string, location?: string, requestId?: string): void {
  // The body goes as bytes: given a string, node prepends the head to it (one more string) and
  // the socket write copies that whole string once more on V8's heap (a certificate's answer is
  // ~3.5 KB); given a buffer, the head is written beside it and the body is encoded only here.
  const body = Buffer.from(payload, 'utf8');
  const headers: Array<string | number> = requestId === undefined ? [] : ['X-Request-Id', requestId];
  headers.push('Content-Type', 'application/json; charset=utf-8', 'Content-Length', body.length);
  if (location !== undefined) headers.push('Location', location);
  res.writeHead(status, headers);
  res.end(body);
}
