// Response shapes of the issuer-gateway API: the contract's own schemas (@fsm-certs/api), the
// ones the gateway answers with and /openapi.json publishes. Validated on arrival: the client
// trusts nothing it did not check.
import type { z } from 'zod';
import type { CertEvent, issueRequestSchema } from '@fsm-certs/api';

export {
  certificateSchema as certificateResponseSchema,
  certificateListSchema,
  trustBundleSchema,
  problemSchema,
  certEventSchema,
  rootRotationStatusSchema,
  type RootRotationStatus,
  type RootRotationRequest,
  type RotationRoot,
  auditPageSchema,
  type AuditPage,
  type AuditRecord,
  type Certificate as CertificateResponse,
  type CertificateList,
  type TrustBundle as TrustBundleResponse,
  type Problem,
  type CertEvent,
} from '@fsm-certs/api';

/** The body of POST /v1/certificates as a caller writes it. */
export type IssueCertificateInput = z.input<typeof issueRequestSchema>;

export interface GatewayEvent {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  /** `data` read with the contract's CertEvent schema; undefined for a kind this client does not know. */
  readonly event?: CertEvent | undefined;
}
