import { IsNull, Not, type DataSource } from 'typeorm';
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

  async insert(row: Omit<ApiKeyRow, 'createdAt' | 'revokedAt'>, tx?: Tx): Promise<void> {
    await this.repo(tx).insert(row);
  }

  /** Serializes start-up registrations of the operator's key in a project, until the transaction ends. */
  async lockBootstrap(projectId: string, tx: Tx): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [BOOTSTRAP_LOCK_CLASS, projectId]);
  }

  findActiveByHash(keyHash: string, tx?: Tx): Promise<ApiKeyRow | null> {
    return this.repo(tx).findOneBy({ keyHash, revokedAt: IsNull() });
  }

  listByProject(projectId: string, tx?: Tx): Promise<ApiKeyRow[]> {
    return this.repo(tx).find({ where: { projectId }, order: { createdAt: 'ASC' } });
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
}
