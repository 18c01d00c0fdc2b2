// Public API of @fsm-certs/api: the issuer-gateway's HTTP contract. The gateway validates with
// these schemas, the client parses with them, and /openapi.json is generated from them.
export * from './fields.js';
export * from './events.js';
export * from './rotation.js';
export * from './problems.js';
export * from './requests.js';
export * from './responses.js';
export * from './operations.js';
export * from './audit.js';
export { openApiDocument, type OpenApiDocument } from './openapi.js';
