// Public API of @fsm-certs/issuance: the ca-service's issue/rotate job processing, the
// rotation-worker's sweep, trust-bundle publishing and KEK load-or-create. The process plumbing
// (logger, shutdown, health) is @fsm-certs/runtime.
export * from './errors.js';
export * from './kek.js';
export * from './name-lock.js';
export * from './concurrency.js';
export * from './reuse.js';
export * from './renew-at.js';
export * from './job-error.js';
export * from './announced.js';
export * from './certificate-issuer.js';
export * from './issue-processor.js';
export * from './rotate-processor.js';
export * from './renewals-yield.js';
export * from './trust-bundle.js';
export * from './rotation-sweep.js';
export * from './ca-service.js';
export * from './rotation-worker.js';
export * from './root-rotation/controller.js';
export * from './root-rotation/processor.js';
export { activateReadiness, dropReadiness, drained, type RotationFacts, type Readiness } from './root-rotation/conditions.js';
export { scanLeaves, spreadFraction, type LeafScan, type LeafToMove, type ScanPlan } from './root-rotation/leaf-scan.js';
export { PassLeafSource, type PassInventory, type PassLeaves } from './root-rotation/pass-leaves.js';
