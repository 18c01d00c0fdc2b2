// The CSR check of CSR mode over @fsm-certs/x509: parses the PKCS#10 request and verifies its
// self-signature (proof that the caller holds the private key). Nothing else of the CSR is used.
import { parseCsr } from '@fsm-certs/x509';
import type { CsrCheck } from './issue-request.js';

export const x509CsrCheck: CsrCheck = {
  verify(csrPem: string) {
    return { keyAlgorithm: parseCsr(csrPem).keyAlgorithm };
  },
};
