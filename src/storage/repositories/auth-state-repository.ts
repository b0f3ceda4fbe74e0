import type { DataSource } from 'typeorm';
import type { Tx } from '../data-source.js';
import { AuthStateEntity, type AuthStateRow } from '../entities/auth-state.js';
import { BaseRepository } from './base.js';

export class AuthStateRepository extends BaseRepository<AuthStateRow> {
  constructor(dataSource: DataSource) {
    super(dataSource, AuthStateEntity);
  }

  async insert(row: Omit<AuthStateRow, 'createdAt' | 'consumedAt'>, tx?: Tx): Promise<void> {
    await this.repo(tx).insert(row);
  }

  findById(id: string, tx?: Tx): Promise<AuthStateRow | null> {
    return this.repo(tx).findOneBy({ id });
  }

  /**
   * Marks the state used. Exactly one caller ever gets `true`: the update is
   * conditional on the row being unused, so concurrent replays lose.
   */
  async consume(id: string, tx?: Tx): Promise<boolean> {
    const result = await this.repo(tx)
      .createQueryBuilder()
      .update()
      .set({ consumedAt: () => 'now()' })
      .where('id = :id AND consumed_at IS NULL', { id })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  /** Drops states that expired more than a day ago. */
  async purgeExpired(tx?: Tx): Promise<number> {
    const result = await this.repo(tx)
      .createQueryBuilder()
      .delete()
      .where(`expires_at < now() - interval '1 day'`)
      .execute();
    return result.affected ?? 0;
  }
}
