// The OpenAPI 3.1 document served at /openapi.json: generated in @fsm-certs/api from the same
// zod schemas the gateway validates with (see libs/api/src/openapi.ts).
export { openApiDocument } from '@fsm-certs/api';
