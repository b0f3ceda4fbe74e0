import { EntitySchema } from 'typeorm';
import type { OneTimeCodeRow } from '../../domain/model/one-time-code.js';

/** The table of the domain model's `OneTimeCodeRow` (src/domain/model/one-time-code.ts). */
export const OneTimeCodeEntity = new EntitySchema<OneTimeCodeRow>({
  name: 'OneTimeCode',
  tableName: 'one_time_codes',
  columns: {
    codeHash: { name: 'code_hash', type: 'text', primary: true },
    kind: { type: 'text' },
    projectId: { name: 'project_id', type: 'text' },
    clientId: { name: 'client_id', type: 'text' },
    sessionId: { name: 'session_id', type: 'text', nullable: true },
    redirectUri: { name: 'redirect_uri', type: 'text', nullable: true },
    codeChallenge: { name: 'code_challenge', type: 'text', nullable: true },
    intent: { type: 'text', nullable: true },
    ipFingerprint: { name: 'ip_fingerprint', type: 'text', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz' },
    expiresAt: { name: 'expires_at', type: 'timestamptz' },
    usedAt: { name: 'used_at', type: 'timestamptz', nullable: true },
  },
});
