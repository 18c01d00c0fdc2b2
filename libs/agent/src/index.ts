// Public API of @fsm-certs/agent: the workload agent (startAgent), the atomic file layout it
// writes and the reader that reads it consistently, and the clocks it runs on.
export { startAgent, type AgentHandle, type AgentEvents, type WrittenEvent, type SyncedEvent, type AgentErrorEvent, type HookEvent } from './agent.js';
export { resolveOptions, KEY_MODES, type AgentOptions, type KeyMode } from './options.js';
export { AgentError, type AgentErrorCode } from './errors.js';
export { systemAgentClock, ManualClock, type AgentClock } from './clock.js';
export { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff.js';
export { isSignalName, type ReloadHook, type HookOutcome } from './hook.js';
export { jsonLineLogger, silentLogger, type AgentLogger, type LogLevel } from './logger.js';
export type { AgentHealth } from './health.js';
export type { SyncKind, SyncOutcome, FileKind } from './sync.js';
export { AtomicDirWriter } from './files/atomic-writer.js';
export { readCertificateFiles, type ReadFilesResult } from './files/reader.js';
export { CERT_FILE, KEY_FILE, CA_FILE, DATA_LINK, type CertificateFiles } from './files/layout.js';
