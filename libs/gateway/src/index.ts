// Public API of @fsm-certs/gateway: the issuer-gateway's HTTP API as an express app factory,
// plus the pieces the composition root wires (BullMQ issue client, CSR check, server TLS).
export { createGatewayApp, type GatewayApp } from './app.js';
export type { GatewayDeps, GatewayAppOptions, GatewayLogger, InventoryPort, EventPort, ReadinessCheck } from './deps.js';
export { silentLogger } from './deps.js';
export { GatewayError, isGatewayError, GATEWAY_ERROR_CODES, type GatewayErrorCode } from './errors.js';
export { PROBLEM_CONTENT_TYPE, toProblem, type ProblemBody } from './http/problem.js';
export { Authenticator, sha256Hex, SCOPES, type Scope, type TokenGrant, type Principal } from './auth/tokens.js';
export { nameMatcher, isValidPattern, type NameMatcher } from './auth/name-patterns.js';
export { TokenBucketLimiter } from './auth/rate-limit.js';
export type { IssueClient, IssueBatchOptions } from './issue/issue-client.js';
export { IssueBatcher, singleFlightKey, type IssueRequestItem, type BatcherOptions } from './issue/batcher.js';
export { BullMqIssueClient, type BullMqIssueClientOptions } from './issue/bullmq-issue-client.js';
export { buildIssueItem, MIN_VALIDITY_MS, type CsrCheck } from './issue/issue-request.js';
export { x509CsrCheck } from './issue/csr-check.js';
export { openApiDocument } from './openapi/document.js';
export { startIssuerGateway, type IssuerGateway, type IssuerGatewayOptions } from './service/start.js';
export { listen, type ListenOptions, type RunningServer, type TlsMaterial } from './service/listen.js';
export { obtainServerCertificate, serverCertificateItem, SERVER_CERT_VALIDITY_MS, type ServerCertificate } from './service/server-certificate.js';
export { BullMqRootRotation, type RootRotationPort } from './rotation/root-rotation-port.js';
export {
  ServerCertificateRenewal,
  realRenewalScheduler,
  MAX_TIMER_DELAY_MS,
  type RenewalScheduler,
  type ServerCertificateRenewalEvents,
} from './service/server-certificate-renewal.js';
export {
  CallerAuthenticatorChain,
  ServiceAccountAuthenticator,
  SERVICE_ACCOUNT_DEFAULT_POLICY,
  serviceAccountPrincipal,
  type ServiceAccountAuthOptions,
  type TokenReviewAnswer,
  type TokenReviewer,
} from './auth/service-accounts.js';
export { AccessControl, type CallerAuthenticator } from './auth/middleware.js';
export { DEFAULT_POLICY, KEY_MODES, type CallerPolicy, type CallerPolicyInput, type KeyMode } from './auth/policy.js';
export { certificateNames, requireCoverage, spiffeIdentityName, type CertificateName } from './auth/certificate-names.js';
