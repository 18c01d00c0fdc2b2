// Small helpers for reading CertificateRequests and writing their status the way cert-manager
// does (conditions replaced by type, lastTransitionTime only when the status changes).
import type { KubeObject } from '../types.js';

export interface ConditionInput {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

interface StoredCondition extends ConditionInput {
  readonly lastTransitionTime: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function conditionsOf(object: KubeObject): StoredCondition[] {
  const status = isRecord(object.status) ? object.status : {};
  const list = Array.isArray(status.conditions) ? status.conditions : [];
  return list.filter((entry): entry is StoredCondition => isRecord(entry) && typeof entry.type === 'string' && typeof entry.status === 'string');
}

export function conditionOf(object: KubeObject, type: string): StoredCondition | undefined {
  return conditionsOf(object).find((condition) => condition.type === type);
}

export function withConditions(object: KubeObject, updates: readonly ConditionInput[], now: Date, extra: Record<string, unknown> = {}): KubeObject {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const conditions = conditionsOf(object);
  for (const update of updates) {
    const index = conditions.findIndex((condition) => condition.type === update.type);
    const previous = index >= 0 ? conditions[index] : undefined;
    const next: StoredCondition = {
      ...update,
      lastTransitionTime: previous !== undefined && previous.status === update.status ? previous.lastTransitionTime : stamp,
    };
    if (index >= 0) conditions[index] = next;
    else conditions.push(next);
  }
  const status = isRecord(object.status) ? object.status : {};
  return { ...object, status: { ...status, ...extra, conditions } };
}

export interface IssuerRef {
  readonly name: string;
  readonly kind: 'Issuer' | 'ClusterIssuer';
  readonly group: string;
}

export function readIssuerRef(object: KubeObject): IssuerRef | undefined {
  const spec = isRecord(object.spec) ? object.spec : {};
  const ref = isRecord(spec.issuerRef) ? spec.issuerRef : undefined;
  if (ref === undefined || typeof ref.name !== 'string') return undefined;
  return {
    name: ref.name,
    kind: ref.kind === 'ClusterIssuer' ? 'ClusterIssuer' : 'Issuer',
    group: typeof ref.group === 'string' ? ref.group : '',
  };
}

export function pemFromDer(der: Buffer, label = 'CERTIFICATE'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
