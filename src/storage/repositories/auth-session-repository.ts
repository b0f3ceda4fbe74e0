import type { DataSource } from 'typeorm';
import type { AuthSessionsPort } from '../../domain/ports/persistence.js';
import { AuthSessionEntity } from '../entities/auth-session.js';
import type { AuthSessionRow } from '../../domain/model/auth-session.js';
import { BaseRepository, type Tx } from './base.js';
import { CREDENTIAL_REVOKED_SUFFIX, EVENTS_CHANNEL, updateAndNotifyRevoked } from './connection-event-repository.js';

export class AuthSessionRepository extends BaseRepository<AuthSessionRow> implements AuthSessionsPort {
  constructor(dataSource: DataSource) {
    super(dataSource, AuthSessionEntity);
  }

  async insert(row: Omit<AuthSessionRow, 'createdAt' | 'revokedAt' | 'revokeReason'>, tx?: Tx): Promise<AuthSessionRow> {
    await this.repo(tx).insert(row);
    return (await this.findById(row.id, tx))!;
  }

  findById(id: string, tx?: Tx): Promise<AuthSessionRow | null> {
    return this.repo(tx).findOneBy({ id });
  }

  /** Locks the session row: refresh rotation and reuse detection serialize on it. */
  findByIdForUpdate(id: string, tx: Tx): Promise<AuthSessionRow | null> {
    return this.repo(tx).createQueryBuilder('s').setLock('pessimistic_write').where('s.id = :id', { id }).getOne();
  }

  /** Ends the session; every replica hears of it at commit (its open streams end). False when it had already ended. */
  async revoke(id: string, reason: string, now: Date, tx?: Tx): Promise<boolean> {
    const rows: unknown[] = await (tx ?? this.dataSource.manager).query(
      updateAndNotifyRevoked('UPDATE auth_sessions SET revoked_at = $2, revoke_reason = $3 WHERE id = $1 AND revoked_at IS NULL RETURNING project_id, id', 3),
      [id, now, reason, EVENTS_CHANNEL, CREDENTIAL_REVOKED_SUFFIX],
    );
    return rows.length > 0;
  }

  async updateScopes(id: string, scopes: string[], tx?: Tx): Promise<void> {
    await this.repo(tx).update({ id }, { scopes });
  }
}
