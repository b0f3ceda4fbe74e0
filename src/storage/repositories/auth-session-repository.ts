import { IsNull, type DataSource } from 'typeorm';
import type { Tx } from '../data-source.js';
import { AuthSessionEntity, type AuthSessionRow } from '../entities/auth-session.js';
import { BaseRepository } from './base.js';

export class AuthSessionRepository extends BaseRepository<AuthSessionRow> {
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

  async revoke(id: string, reason: string, now: Date, tx?: Tx): Promise<boolean> {
    const result = await this.repo(tx).update({ id, revokedAt: IsNull() }, { revokedAt: now, revokeReason: reason });
    return (result.affected ?? 0) > 0;
  }

  async updateScopes(id: string, scopes: string[], tx?: Tx): Promise<void> {
    await this.repo(tx).update({ id }, { scopes });
  }
}
