import { EntitySchema } from 'typeorm';
import type { RefreshTokenRow } from '../../domain/model/refresh-token.js';

/** The table of the domain model's `RefreshTokenRow` (src/domain/model/refresh-token.ts). */
export const RefreshTokenEntity = new EntitySchema<RefreshTokenRow>({
  name: 'RefreshToken',
  tableName: 'refresh_tokens',
  columns: {
    tokenHash: { name: 'token_hash', type: 'text', primary: true },
    sessionId: { name: 'session_id', type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    expiresAt: { name: 'expires_at', type: 'timestamptz' },
    usedAt: { name: 'used_at', type: 'timestamptz', nullable: true },
  },
});
