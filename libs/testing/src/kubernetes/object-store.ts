// A generic in-memory object store with the API server's semantics: one resourceVersion counter
// for everything, uid/creationTimestamp/generation on create, generateName, optimistic
// concurrency, and watch fan-out with a bounded history so a watch can resume from a version.
// Resource types are described by ResourceDefinition; nothing here knows about Secrets.
import { randomUUID } from 'node:crypto';
import { alreadyExists, conflict, invalid, KubeApiError, notFound } from './status.js';
import { validateObjectName } from './validation.js';
import { apiVersionOf, resourceKey } from './types.js';
import type { KubeObject, ResourceDefinition, WatchEvent, WatchEventType } from './types.js';

export interface ListFilter {
  /** undefined = all namespaces (or a cluster-scoped resource). */
  readonly namespace?: string;
  /** fieldSelector metadata.name=<name>. */
  readonly name?: string;
  /** Equality-based labelSelector, e.g. { app: 'x' }. */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface WatchOptions extends ListFilter {
  /** Resume after this version. undefined or '0' = start with ADDED events for every current object. */
  readonly resourceVersion?: string;
}

export type WatchListener = (event: WatchEvent) => void;

interface Watcher {
  readonly def: ResourceDefinition;
  readonly filter: ListFilter;
  readonly listener: WatchListener;
}

interface HistoryEntry {
  readonly rv: number;
  readonly def: ResourceDefinition;
  readonly event: WatchEvent;
}

export interface ObjectStoreOptions {
  readonly now?: () => Date;
  /** Events kept for watch resumption; older resourceVersions get 410 Gone. */
  readonly historySize?: number;
}

const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(): string {
  let out = '';
  for (let i = 0; i < 5; i++) out += SUFFIX_ALPHABET[Math.floor(Math.random() * SUFFIX_ALPHABET.length)] ?? 'x';
  return out;
}

function specOf(object: KubeObject): string {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return JSON.stringify(rest);
}

export function matchesFilter(object: KubeObject, filter: ListFilter): boolean {
  if (filter.namespace !== undefined && object.metadata.namespace !== filter.namespace) return false;
  if (filter.name !== undefined && object.metadata.name !== filter.name) return false;
  if (filter.labels !== undefined) {
    const labels = object.metadata.labels ?? {};
    for (const [key, value] of Object.entries(filter.labels)) if (labels[key] !== value) return false;
  }
  return true;
}

/** A validating webhook's denial, worded and coded as the API server words and codes it. */
function admit(def: ResourceDefinition, object: KubeObject, existing: KubeObject | undefined): void {
  const denial = def.admission?.check(object, existing);
  if (denial !== undefined && def.admission !== undefined) {
    throw new KubeApiError('Forbidden', `admission webhook "${def.admission.webhook}" denied the request: ${denial}`);
  }
}

export class ObjectStore {
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly watchers = new Set<Watcher>();
  private readonly history: HistoryEntry[] = [];
  private revision = 0;
  private readonly now: () => Date;
  private readonly historySize: number;

  constructor(options: ObjectStoreOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.historySize = options.historySize ?? 1000;
  }

  get resourceVersion(): string {
    return String(this.revision);
  }

  create(def: ResourceDefinition, namespace: string | undefined, incoming: KubeObject): KubeObject {
    const draft = structuredClone(incoming);
    draft.metadata = { ...(draft.metadata ?? {}) };
    if ((draft.metadata.name === undefined || draft.metadata.name === '') && draft.metadata.generateName) {
      draft.metadata.name = this.freeName(def, namespace, draft.metadata.generateName);
    }
    const prepared = def.prepare ? def.prepare(draft, undefined) : draft;
    const name = prepared.metadata.name ?? '';
    const causes = [...validateObjectName(prepared.metadata.name), ...(def.validate?.(prepared, undefined) ?? [])];
    if (causes.length > 0) throw invalid(def.kind, def.group, name, causes);
    admit(def, prepared, undefined);
    const bucket = this.bucket(def);
    const key = this.key(namespace, name);
    if (bucket.has(key)) throw alreadyExists(def.plural, def.group, name);
    const stored: KubeObject = {
      ...prepared,
      apiVersion: apiVersionOf(def),
      kind: def.kind,
      metadata: {
        ...prepared.metadata,
        ...(def.namespaced ? { namespace } : {}),
        uid: randomUUID(),
        resourceVersion: this.nextRevision(),
        generation: 1,
        creationTimestamp: this.timestamp(),
      },
    };
    if (!def.namespaced) delete stored.metadata.namespace;
    bucket.set(key, stored);
    this.emit(def, 'ADDED', stored);
    return structuredClone(stored);
  }

  get(def: ResourceDefinition, namespace: string | undefined, name: string): KubeObject {
    const found = this.bucket(def).get(this.key(namespace, name));
    if (found === undefined) throw notFound(def.plural, def.group, name);
    return structuredClone(found);
  }

  list(def: ResourceDefinition, filter: ListFilter = {}): { items: KubeObject[]; resourceVersion: string } {
    const items = [...this.bucket(def).values()].filter((o) => matchesFilter(o, filter)).map((o) => structuredClone(o));
    return { items, resourceVersion: this.resourceVersion };
  }

  /**
   * PUT semantics. A resourceVersion in the incoming object must match (409 Conflict otherwise);
   * without one the update is unconditional where the definition allows it.
   * `subresource: 'status'` changes only .status; otherwise .status is kept when the definition has
   * a status subresource.
   */
  replace(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    incoming: KubeObject,
    options: { subresource?: 'status' } = {},
  ): KubeObject {
    const bucket = this.bucket(def);
    const key = this.key(namespace, name);
    const existing = bucket.get(key);
    if (existing === undefined) throw notFound(def.plural, def.group, name);
    const draft = structuredClone(incoming);
    draft.metadata = { ...(draft.metadata ?? {}) };
    if (draft.metadata.name !== undefined && draft.metadata.name !== name) {
      throw new KubeApiError('BadRequest', 'the name of the object does not match the name on the URL');
    }
    const wanted = draft.metadata.resourceVersion;
    if (wanted === undefined || wanted === '') {
      if (def.allowUnconditionalUpdate === false) {
        throw invalid(def.kind, def.group, name, [
          { reason: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' },
        ]);
      }
    } else if (wanted !== existing.metadata.resourceVersion) {
      throw conflict(def.plural, def.group, name);
    }
    let next: KubeObject;
    if (options.subresource === 'status') {
      next = { ...structuredClone(existing), status: draft.status };
    } else {
      next = { ...draft, metadata: { ...draft.metadata, name } };
      if (def.statusSubresource) {
        if (existing.status === undefined) delete next.status;
        else next.status = structuredClone(existing.status);
      }
      const prepared = def.prepare ? def.prepare(next, structuredClone(existing)) : next;
      const causes = def.validate?.(prepared, structuredClone(existing)) ?? [];
      if (causes.length > 0) throw invalid(def.kind, def.group, name, causes);
      admit(def, prepared, structuredClone(existing));
      next = prepared;
    }
    const stored: KubeObject = {
      ...next,
      apiVersion: apiVersionOf(def),
      kind: def.kind,
      metadata: {
        ...next.metadata,
        // Server-owned fields cannot be changed by a client.
        name,
        uid: existing.metadata.uid,
        creationTimestamp: existing.metadata.creationTimestamp,
        generation: (existing.metadata.generation ?? 1) + (specOf(next) === specOf(existing) ? 0 : 1),
        resourceVersion: this.nextRevision(),
        ...(def.namespaced ? { namespace } : {}),
      },
    };
    bucket.set(key, stored);
    this.emit(def, 'MODIFIED', stored);
    return structuredClone(stored);
  }

  delete(def: ResourceDefinition, namespace: string | undefined, name: string): KubeObject {
    const bucket = this.bucket(def);
    const key = this.key(namespace, name);
    const existing = bucket.get(key);
    if (existing === undefined) throw notFound(def.plural, def.group, name);
    bucket.delete(key);
    const gone: KubeObject = { ...existing, metadata: { ...existing.metadata, resourceVersion: this.nextRevision() } };
    this.emit(def, 'DELETED', gone);
    return structuredClone(gone);
  }

  /**
   * In-process watch (controllers use this directly; the router serves it over HTTP).
   * Replays history after options.resourceVersion, or the current objects as ADDED when none is
   * given. Throws 410 Gone when the version is older than the kept history. Returns unsubscribe.
   */
  watch(def: ResourceDefinition, options: WatchOptions, listener: WatchListener): () => void {
    const since = options.resourceVersion;
    const replay: WatchEvent[] = [];
    if (since === undefined || since === '' || since === '0') {
      for (const object of this.list(def, options).items) replay.push({ type: 'ADDED', object });
    } else {
      const from = Number(since);
      if (!Number.isInteger(from) || from < 0) {
        throw new KubeApiError('BadRequest', `invalid resourceVersion "${since}"`);
      }
      const oldest = this.history[0]?.rv ?? this.revision + 1;
      if (from < oldest - 1 && from < this.revision) {
        throw new KubeApiError('Gone', `too old resource version: ${since} (${oldest - 1})`);
      }
      for (const entry of this.history) {
        if (entry.rv > from && entry.def === def && matchesFilter(entry.event.object, options)) {
          replay.push({ type: entry.event.type, object: structuredClone(entry.event.object) });
        }
      }
    }
    const watcher: Watcher = { def, filter: options, listener };
    this.watchers.add(watcher);
    for (const event of replay) listener(event);
    return () => {
      this.watchers.delete(watcher);
    };
  }

  private emit(def: ResourceDefinition, type: WatchEventType, object: KubeObject): void {
    const event: WatchEvent = { type, object: structuredClone(object) };
    this.history.push({ rv: this.revision, def, event });
    if (this.history.length > this.historySize) this.history.shift();
    for (const watcher of [...this.watchers]) {
      if (watcher.def === def && matchesFilter(object, watcher.filter)) {
        watcher.listener({ type, object: structuredClone(object) });
      }
    }
  }

  private freeName(def: ResourceDefinition, namespace: string | undefined, prefix: string): string {
    const bucket = this.bucket(def);
    for (;;) {
      const candidate = `${prefix}${randomSuffix()}`;
      if (!bucket.has(this.key(namespace, candidate))) return candidate;
    }
  }

  private bucket(def: ResourceDefinition): Map<string, KubeObject> {
    const key = resourceKey(def);
    let bucket = this.objects.get(key);
    if (bucket === undefined) {
      bucket = new Map();
      this.objects.set(key, bucket);
    }
    return bucket;
  }

  private key(namespace: string | undefined, name: string): string {
    return `${namespace ?? ''}/${name}`;
  }

  private nextRevision(): string {
    this.revision += 1;
    return String(this.revision);
  }

  private timestamp(): string {
    // RFC 3339 without fractional seconds, as the API server writes creationTimestamp.
    return this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}
