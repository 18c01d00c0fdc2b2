/*
 * Kubernetes API emulator: request router.
 *
 * Extending the emulator with another resource type (how cert-manager support plugs in):
 *
 *   const emulator = await KubernetesEmulator.start();
 *   const crDef = emulator.registerResource({
 *     group: 'cert-manager.io', version: 'v1', kind: 'CertificateRequest',
 *     plural: 'certificaterequests', namespaced: true,
 *     allowUnconditionalUpdate: false,   // custom resources need metadata.resourceVersion on PUT
 *     statusSubresource: true,           // PUT .../status changes only .status
 *     prepare: (obj, existing) => obj,   // defaulting, before validation
 *     validate: (obj, existing) => [],   // FieldCause[]; non-empty -> 422 Invalid with details.causes
 *   });
 *
 * The router then serves, for every registered resource, with the API server's URL layout:
 *   core:  /api/v1[/namespaces/{ns}]/{plural}[/{name}[/status]]
 *   group: /apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/status]]
 *   GET (get / list / ?watch=true with resourceVersion, fieldSelector=metadata.name=X,
 *   labelSelector=a=b, timeoutSeconds), POST (201; generateName), PUT (409 Conflict on a stale
 *   resourceVersion), PATCH (merge-patch+json / strategic-merge-patch+json), DELETE (200 Status
 *   Success). Errors are Status bodies (status.ts). Watch streams newline-delimited JSON events.
 *
 * A simulated controller works in-process on the same data through `emulator.store`
 * (ObjectStore): `store.watch(def, { namespace }, event => ...)` to react to objects,
 * `store.get / list / replace(def, ns, name, obj, { subresource: 'status' }) / delete`. The
 * store emits watch events for those writes exactly as for HTTP writes.
 *
 * Fault injection for tests: `emulator.addInterceptor(req => reply | undefined)` runs before
 * routing; return `{ status, body }` to answer instead (e.g. 503, 403), undefined to pass.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { discoveryAnswer } from './discovery.js';
import { decodeSecretProtobuf, isProtobuf } from './protobuf.js';
import { KubeApiError, successStatus } from './status.js';
import type { ListFilter, ObjectStore } from './object-store.js';
import { apiVersionOf } from './types.js';
import type { KubeObject, ResourceDefinition } from './types.js';

export interface InterceptedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
}

export interface InterceptorReply {
  readonly status: number;
  readonly body: unknown;
}

export type Interceptor = (request: InterceptedRequest) => InterceptorReply | undefined;

/**
 * A POST that is answered rather than stored (TokenReview, a ServiceAccount's token
 * subresource): matched by group, version, plural and subresource.
 */
export interface ApiAction {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  /** For `.../<plural>/<name>/<subresource>`; undefined for a POST to the collection. */
  readonly subresource?: string;
  readonly handle: (namespace: string | undefined, name: string | undefined, body: unknown) => InterceptorReply;
}

const MAX_BODY_BYTES = 3 * 1024 * 1024;

interface ParsedPath {
  readonly group: string;
  readonly version: string;
  readonly namespace: string | undefined;
  readonly plural: string;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
}

export function parseApiPath(pathname: string): ParsedPath | undefined {
  const segments = pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 3) {
    group = '';
    version = segments[1] ?? '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    group = segments[1] ?? '';
    version = segments[2] ?? '';
    rest = segments.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  if (plural === undefined || extra.length > 0) return undefined;
  return { group, version, namespace, plural, name, subresource };
}

function parseSelectors(query: URLSearchParams): ListFilter {
  const filter: { name?: string; namespace?: string; labels?: Record<string, string> } = {};
  const fieldSelector = query.get('fieldSelector');
  if (fieldSelector) {
    for (const term of fieldSelector.split(',')) {
      const [field, value] = term.split('=', 2).map((s) => s.replace(/^=/, '').trim());
      if (field === 'metadata.name' && value !== undefined) filter.name = value;
      else if (field === 'metadata.namespace' && value !== undefined) filter.namespace = value;
      else throw new KubeApiError('BadRequest', `unable to parse requirement: field label not supported: ${field ?? term}`);
    }
  }
  const labelSelector = query.get('labelSelector');
  if (labelSelector) {
    filter.labels = {};
    for (const term of labelSelector.split(',')) {
      const match = /^([^=!]+)==?([^=]*)$/.exec(term.trim());
      if (match === null || match[1] === undefined || match[2] === undefined) {
        throw new KubeApiError('BadRequest', `unable to parse requirement: only equality label selectors are emulated: ${term}`);
      }
      filter.labels[match[1]] = match[2];
    }
  }
  return filter;
}

/** RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}

function isKubeObjectBody(value: unknown): value is KubeObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const metadata = (value as { metadata?: unknown }).metadata;
  return metadata === undefined || (metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata));
}

async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new KubeApiError('RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** A create/replace body: JSON, or Kubernetes protobuf for a core Secret (what kubectl sends). */
async function readObject(req: IncomingMessage, def: ResourceDefinition): Promise<unknown> {
  if (!isProtobuf(req.headers['content-type'])) return readJson(req);
  if (def.group !== '' || def.kind !== 'Secret') {
    req.resume();
    throw new KubeApiError('UnsupportedMediaType', `the emulator reads protobuf only for core/v1 Secrets, not ${def.kind}; send application/json`);
  }
  return decodeSecretProtobuf(await readBytes(req));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = (await readBytes(req)).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new KubeApiError('BadRequest', `the body of the request was in an unknown format: ${(error as Error).message}`);
  }
}

function objectBody(body: unknown, def: ResourceDefinition): KubeObject {
  if (!isKubeObjectBody(body)) throw new KubeApiError('BadRequest', 'the body of the request must be a JSON object');
  const expected = apiVersionOf(def);
  if (body.apiVersion !== undefined && body.apiVersion !== expected) {
    throw new KubeApiError('BadRequest', `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${expected})`);
  }
  if (body.kind !== undefined && body.kind !== def.kind) {
    throw new KubeApiError('BadRequest', `the kind in the data (${String(body.kind)}) does not match the expected kind (${def.kind})`);
  }
  return { ...body, metadata: { ...(body.metadata ?? {}) } };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export class ResourceRouter {
  private readonly definitions = new Map<string, ResourceDefinition>();
  private readonly interceptors = new Set<Interceptor>();
  private readonly openWatches = new Set<ServerResponse>();
  private readonly actions: ApiAction[] = [];

  constructor(
    private readonly store: ObjectStore,
    private readonly token: string | undefined,
  ) {}

  registerResource(def: ResourceDefinition): ResourceDefinition {
    const key = `${def.group}/${def.version}/${def.plural}`;
    if (this.definitions.has(key)) throw new Error(`resource ${key} is already registered`);
    this.definitions.set(key, def);
    return def;
  }

  resource(group: string, version: string, plural: string): ResourceDefinition | undefined {
    return this.definitions.get(`${group}/${version}/${plural}`);
  }

  registerAction(action: ApiAction): void {
    this.actions.push(action);
  }

  addInterceptor(interceptor: Interceptor): () => void {
    this.interceptors.add(interceptor);
    return () => {
      this.interceptors.delete(interceptor);
    };
  }

  /** Ends every open watch stream (the client sees the connection close, as on an API server restart). */
  closeWatches(): void {
    for (const res of this.openWatches) res.end();
    this.openWatches.clear();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.dispatch(req, res);
    } catch (error) {
      if (res.headersSent) {
        res.end();
        return;
      }
      const apiError =
        error instanceof KubeApiError ? error : new KubeApiError('InternalError', `Internal error occurred: ${(error as Error).message}`);
      send(res, apiError.code, apiError.toStatus());
    }
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = (req.method ?? 'GET').toUpperCase();
    for (const interceptor of this.interceptors) {
      const reply = interceptor({ method, path: url.pathname, query: url.searchParams, headers: req.headers });
      if (reply !== undefined) {
        req.resume();
        send(res, reply.status, reply.body);
        return;
      }
    }
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) {
      req.resume();
      throw new KubeApiError('Unauthorized', 'Unauthorized');
    }
    if (method === 'GET') {
      const discovered = discoveryAnswer(url.pathname, [...this.definitions.values()], req.headers.host ?? '127.0.0.1');
      if (discovered !== undefined) {
        req.resume();
        send(res, 200, discovered);
        return;
      }
    }
    const parsed = parseApiPath(url.pathname);
    const action =
      method === 'POST' && parsed !== undefined
        ? this.actions.find(
            (a) =>
              a.group === parsed.group &&
              a.version === parsed.version &&
              a.plural === parsed.plural &&
              a.subresource === parsed.subresource &&
              (a.subresource === undefined) === (parsed.name === undefined),
          )
        : undefined;
    if (action !== undefined && parsed !== undefined) {
      const reply = action.handle(parsed.namespace, parsed.name, await readJson(req));
      send(res, reply.status, reply.body);
      return;
    }
    const def = parsed === undefined ? undefined : this.resource(parsed.group, parsed.version, parsed.plural);
    if (parsed === undefined || def === undefined || (parsed.namespace !== undefined && !def.namespaced)) {
      req.resume();
      throw new KubeApiError('NotFound', 'the server could not find the requested resource');
    }
    if (parsed.subresource !== undefined && !(parsed.subresource === 'status' && def.statusSubresource)) {
      req.resume();
      throw new KubeApiError('NotFound', 'the server could not find the requested resource');
    }
    const namespace = def.namespaced ? parsed.namespace : undefined;
    const { name } = parsed;

    if (name === undefined) {
      if (method === 'GET') {
        const query = url.searchParams;
        const filter = { ...parseSelectors(query), ...(namespace === undefined ? {} : { namespace }) };
        if (query.get('watch') === 'true' || query.get('watch') === '1') {
          this.serveWatch(req, res, def, filter, query);
          return;
        }
        const { items, resourceVersion } = this.store.list(def, filter);
        send(res, 200, {
          kind: `${def.kind}List`,
          apiVersion: apiVersionOf(def),
          metadata: { resourceVersion },
          items: items.map(({ apiVersion: _a, kind: _k, ...item }) => item),
        });
        return;
      }
      if (method === 'POST') {
        if (def.namespaced && namespace === undefined) throw new KubeApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const object = objectBody(await readObject(req, def), def);
        if (def.namespaced && object.metadata.namespace !== undefined && object.metadata.namespace !== namespace) {
          throw new KubeApiError('BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
        }
        send(res, 201, this.store.create(def, namespace, object));
        return;
      }
      req.resume();
      throw new KubeApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }

    if (def.namespaced && namespace === undefined) {
      req.resume();
      throw new KubeApiError('NotFound', 'the server could not find the requested resource');
    }
    const subresource = parsed.subresource === 'status' ? ({ subresource: 'status' } as const) : {};
    switch (method) {
      case 'GET':
        send(res, 200, this.store.get(def, namespace, name));
        return;
      case 'PUT': {
        const object = objectBody(await readObject(req, def), def);
        if (def.namespaced && object.metadata.namespace !== undefined && object.metadata.namespace !== namespace) {
          throw new KubeApiError('BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
        }
        send(res, 200, this.store.replace(def, namespace, name, object, subresource));
        return;
      }
      case 'PATCH': {
        const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
        if (contentType !== 'application/merge-patch+json' && contentType !== 'application/strategic-merge-patch+json') {
          req.resume();
          throw new KubeApiError('UnsupportedMediaType', `the emulator supports merge patches only, not ${contentType ?? 'none'}`);
        }
        const patch = await readJson(req);
        const existing = this.store.get(def, namespace, name);
        const merged = mergePatch(existing, patch);
        if (!isKubeObjectBody(merged)) throw new KubeApiError('BadRequest', 'the patch must be a JSON object');
        // A patch without a resourceVersion applies to whatever is current.
        const patchMeta = (patch as { metadata?: { resourceVersion?: unknown } } | null)?.metadata;
        if (patchMeta?.resourceVersion === undefined) merged.metadata.resourceVersion = existing.metadata.resourceVersion;
        send(res, 200, this.store.replace(def, namespace, name, merged, subresource));
        return;
      }
      case 'DELETE': {
        req.resume();
        const gone = this.store.delete(def, namespace, name);
        send(
          res,
          200,
          successStatus({ name, ...(def.group === '' ? {} : { group: def.group }), kind: def.plural, ...(gone.metadata.uid ? { uid: gone.metadata.uid } : {}) }),
        );
        return;
      }
      default:
        req.resume();
        throw new KubeApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  private serveWatch(req: IncomingMessage, res: ServerResponse, def: ResourceDefinition, filter: ListFilter, query: URLSearchParams): void {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const write = (line: unknown): void => {
      res.write(`${JSON.stringify(line)}\n`);
    };
    let unsubscribe: () => void = () => undefined;
    try {
      const resourceVersion = query.get('resourceVersion') ?? undefined;
      unsubscribe = this.store.watch(def, { ...filter, ...(resourceVersion === undefined ? {} : { resourceVersion }) }, (event) => write(event));
    } catch (error) {
      // The API server reports a watch that cannot start (e.g. 410 Gone) as an ERROR event.
      const apiError = error instanceof KubeApiError ? error : new KubeApiError('InternalError', (error as Error).message);
      write({ type: 'ERROR', object: apiError.toStatus() });
      res.end();
      return;
    }
    this.openWatches.add(res);
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '0');
    const timer = timeoutSeconds > 0 ? setTimeout(() => res.end(), timeoutSeconds * 1000) : undefined;
    const stop = (): void => {
      unsubscribe();
      if (timer !== undefined) clearTimeout(timer);
      this.openWatches.delete(res);
    };
    res.on('close', stop);
    res.on('finish', stop);
  }
}
