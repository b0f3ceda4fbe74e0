import type { DataSource } from 'typeorm';
import type { SigningKeysPort } from '../../domain/ports/persistence.js';
import { SigningKeyEntity } from '../entities/signing-key.js';
import type { SigningKeyRow } from '../../domain/model/signing-key.js';
import { BaseRepository, type Tx } from './base.js';

// Any constant works; it only has to be the same in every replica.
const SIGNING_KEY_LOCK = 7_242_019_005;

export class SigningKeyRepository extends BaseRepository<SigningKeyRow> implements SigningKeysPort {
  constructor(dataSource: DataSource) {
    super(dataSource, SigningKeyEntity);
  }

  async insert(row: Omit<SigningKeyRow, 'createdAt' | 'retiredAt'>, tx?: Tx): Promise<void> {
    // jsonb column: TypeORM's deep-partial type does not accept an open record.
    await this.repo(tx).insert(row as never);
  }

  /** Every key, newest first (retired ones too: they still verify recent tokens). */
  listAll(tx?: Tx): Promise<SigningKeyRow[]> {
    return this.repo(tx).find({ order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** Serializes key creation across replicas for the rest of the transaction. */
  async lock(tx: Tx): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEY_LOCK]);
  }

  async retireAllExcept(id: string, now: Date, tx?: Tx): Promise<void> {
    await this.repo(tx).createQueryBuilder().update().set({ retiredAt: now }).where('id <> :id AND retired_at IS NULL', { id }).execute();
  }

  async updateSealed(id: string, privateKeySealed: string, tx?: Tx): Promise<void> {
    await this.repo(tx).update({ id }, { privateKeySealed });
  }
}
