export type { AuditActor, AuditEventInput, AuditLog, AuditOutcome } from './types.js';
export { AuditRecorder, type AuditRecorderOptions } from './audit-recorder.js';
export { AuditReader, toJsonLine } from './audit-reader.js';
export { ChainVerifier, canonical, chain, hashOf, type VerifyResult } from './chain.js';
