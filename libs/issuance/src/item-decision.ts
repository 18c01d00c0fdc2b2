// What an issue item needs, given what the inventory held when its batch looked: the answer it
// already got (a retry), a current certificate that answers it, or a new certificate. Pure, so
// a batch can decide every item from one lookup and decide again after losing a store race.
import { answersMarker, type BatchLookup, type CertificateRecord, type IssueItem } from '@fsm-certs/queue';
import { IssuanceError } from './errors.js';
import { isReusable } from './reuse.js';

export type Decision =
  /** The request id was answered before by this record (retry after a crash). */
  | { readonly kind: 'remembered'; readonly record: CertificateRecord }
  /** Answer with the current record and remember the request id (only while it is current). */
  | { readonly kind: 'reused' | 'current'; readonly record: CertificateRecord }
  /** The marker names another common name; resolve it through the inventory. */
  | { readonly kind: 'marker-elsewhere' }
  /** Issue anew, replacing `current` (compare-and-set on its serial, or on absence). */
  | { readonly kind: 'issue'; readonly current: CertificateRecord | undefined }
  | { readonly kind: 'fail'; readonly error: IssuanceError };

export interface DecisionContext {
  readonly nowMs: number;
  /** Fingerprint of the CA issuing now; certs of another CA are not reused. */
  readonly currentIssuerId: string | undefined;
}

export function decide(item: IssueItem, lookup: BatchLookup, context: DecisionContext): Decision {
  const { marker, current } = lookup;
  if (marker !== undefined) {
    if (marker.commonName !== item.commonName) return { kind: 'marker-elsewhere' };
    if (current !== undefined && answersMarker(current, marker.serialNumber)) return { kind: 'remembered', record: current };
  }
  return decideFresh(item, current, context);
}

/** The decision for an item whose request id produced nothing that still stands. */
export function decideFresh(item: IssueItem, current: CertificateRecord | undefined, context: DecisionContext): Decision {
  if (item.reason === 'request') {
    if (current !== undefined && isReusable(current, item, context)) return { kind: 'reused', record: current };
  } else if (item.expectSerial !== undefined && current !== undefined && current.serialNumber !== item.expectSerial) {
    // Someone rotated it since the rotation was requested: never rotate twice.
    return { kind: 'current', record: current };
  } else if (item.reason === 'rotate-scheduled' && current === undefined) {
    return {
      kind: 'fail',
      error: new IssuanceError('CERTIFICATE_NOT_FOUND', `"${item.commonName}" was released before its scheduled rotation ran; nothing to rotate.`),
    };
  }
  return { kind: 'issue', current };
}
