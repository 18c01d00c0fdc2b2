// Response shapes of the issuer-gateway API (docs/http-api.md, /openapi.json). Validated on
// arrival: the client trusts nothing it did not check.
import { z } from 'zod';

export const certificateResponseSchema = z.object({
  commonName: z.string(),
  certificate: z.string(),
  chain: z.array(z.string()),
  issuingCA: z.string(),
  trustedCAs: z.array(z.string()),
  serialNumber: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  renewAt: z.string(),
  privateKey: z.string().optional(),
});
export type CertificateResponse = z.infer<typeof certificateResponseSchema>;

export const certificateListSchema = z.object({
  items: z.array(certificateResponseSchema.omit({ privateKey: true }).passthrough()),
  nextCursor: z.string().nullable().optional(),
});
export type CertificateList = z.infer<typeof certificateListSchema>;

export const trustBundleSchema = z.object({
  issuingCA: z.string(),
  trustedCAs: z.array(z.string()),
});
export type TrustBundleResponse = z.infer<typeof trustBundleSchema>;

export const problemSchema = z.object({
  type: z.string().optional(),
  title: z.string().optional(),
  status: z.number(),
  detail: z.string().optional(),
  code: z.string(),
});
export type Problem = z.infer<typeof problemSchema>;

export interface IssueCertificateInput {
  readonly commonName: string;
  readonly sans?: readonly string[];
  readonly validity?: string;
  readonly keyAlgorithm?: string;
  readonly csr?: string;
  readonly spiffe?: boolean | { readonly namespace: string; readonly serviceAccount: string };
}

export interface GatewayEvent {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
}
