import { IsNull, MoreThan, Not, type DataSource } from 'typeorm';
import type { ApiKeysPort } from '../../domain/ports/persistence.js';
import { ApiKeyEntity } from '../entities/api-key.js';
import type { ApiKeyRow } from '../../domain/model/api-key.js';
import { BaseRepository, type Tx } from './base.js';
import { CREDENTIAL_REVOKED_SUFFIX, EVENTS_CHANNEL, updateAndNotifyRevoked } from './connection-event-repository.js';

// Two-key advisory lock class (see connection-event-repository for another).
const BOOTSTRAP_LOCK_CLASS = 72_430;

export class ApiKeyRepository extends BaseRepository<ApiKeyRow> implements ApiKeysPort {
  constructor(dataSource: DataSource) {
    super(dataSource, ApiKeyEntity);
  }

  async insert(row: Omit<ApiKeyRow, 'createdAt' | 'revokedAt' | 'expiresAt' | 'lastUsedAt'> & { expiresAt?: Date | null }, tx?: Tx): Promise<void> {
    await this.repo(tx).insert(row);
  }

  /** Serializes start-up registrations of the operator's key in a project, until the transaction ends. */
  async lockBootstrap(projectId: string, tx: Tx): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [BOOTSTRAP_LOCK_CLASS, projectId]);
  }

  listByProject(projectId: string, tx?: Tx): Promise<ApiKeyRow[]> {
    return this.repo(tx).find({ where: { projectId }, order: { createdAt: 'ASC' } });
  }

  page(q: { projectId: string; afterId?: string | undefined; limit: number }, tx?: Tx): Promise<ApiKeyRow[]> {
    return this.repo(tx).find({
      where: q.afterId ? { projectId: q.projectId, id: MoreThan(q.afterId) } : { projectId: q.projectId },
      order: { id: 'ASC' },
      take: q.limit,
    });
  }

  findById(projectId: string, id: string, tx?: Tx): Promise<ApiKeyRow | null> {
    return this.repo(tx).findOneBy({ projectId, id });
  }

  findByHash(keyHash: string, tx?: Tx): Promise<ApiKeyRow | null> {
    return this.repo(tx).findOneBy({ keyHash });
  }

  /** Active keys of the project with this name, except the one with `keepHash`. */
  listActiveNamed(projectId: string, name: string, keepHash: string, tx?: Tx): Promise<ApiKeyRow[]> {
    return this.repo(tx).find({ where: { projectId, name, keyHash: Not(keepHash), revokedAt: IsNull() }, order: { createdAt: 'ASC' } });
  }

  /** Revokes an active key; every replica hears of it at commit (their key caches drop it). False when there was no active key. */
  async revoke(projectId: string, id: string, tx?: Tx): Promise<boolean> {
    const rows: unknown[] = await (tx ?? this.dataSource.manager).query(
      updateAndNotifyRevoked('UPDATE api_keys SET revoked_at = now() WHERE project_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING project_id, id', 2),
      [projectId, id, EVENTS_CHANNEL, CREDENTIAL_REVOKED_SUFFIX],
    );
    return rows.length > 0;
  }

  /** Brings an unrevoked key's expiry forward to `at` (never later); every replica hears of it at commit. */
  async expireBy(projectId: string, id: string, at: Date, tx?: Tx): Promise<boolean> {
    const rows: unknown[] = await (tx ?? this.dataSource.manager).query(
      updateAndNotifyRevoked(
        'UPDATE api_keys SET expires_at = LEAST(COALESCE(expires_at, $3), $3) WHERE project_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING project_id, id',
        3,
      ),
      [projectId, id, at, EVENTS_CHANNEL, CREDENTIAL_REVOKED_SUFFIX],
    );
    return rows.length > 0;
  }

  /** Records the keys' last use in one statement (only ever moves it forward). */
  async touch(uses: ReadonlyMap<string, Date>, tx?: Tx): Promise<void> {
    if (uses.size === 0) return;
    await (tx ?? this.dataSource.manager).query(
      `UPDATE api_keys a SET last_used_at = GREATEST(COALESCE(a.last_used_at, u.at), u.at)
         FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at) WHERE a.id = u.id`,
      [[...uses.keys()], [...uses.values()].map((d) => d.toISOString())],
    );
  }
}
