import type { DataSource } from 'typeorm';
import type { AuthStatesPort, ConsentColumns } from '../../domain/ports/persistence.js';
import { AuthStateEntity } from '../entities/auth-state.js';
import type { AuthStateRow } from '../../domain/model/auth-state.js';
import { BaseRepository, type Tx } from './base.js';

export class AuthStateRepository extends BaseRepository<AuthStateRow> implements AuthStatesPort {
  constructor(dataSource: DataSource) {
    super(dataSource, AuthStateEntity);
  }

  async insert(row: Omit<AuthStateRow, 'createdAt' | 'consumedAt' | ConsentColumns> & Partial<Pick<AuthStateRow, ConsentColumns>>, tx?: Tx): Promise<void> {
    await this.repo(tx).insert(row);
  }

  findById(id: string, tx?: Tx): Promise<AuthStateRow | null> {
    return this.repo(tx).findOneBy({ id });
  }

  findByLinkHash(linkHash: string, tx?: Tx): Promise<AuthStateRow | null> {
    return this.repo(tx).findOneBy({ linkHash });
  }

  /**
   * Records the person's confirmation on the consent page. Exactly one
   * caller gets `true`: conditional on the state being unconfirmed, unused
   * and unexpired, and (when `expectedBindingHash` is given: a flow bound at
   * creation to a web session's browser) on that binding.
   */
  async confirm(id: string, bindingHash: string, expectedBindingHash: string | null, tx?: Tx): Promise<boolean> {
    const qb = this.repo(tx)
      .createQueryBuilder()
      .update()
      .set({ confirmedAt: () => 'now()', browserBindingHash: bindingHash })
      .where('id = :id AND confirmed_at IS NULL AND consumed_at IS NULL AND expires_at > now()', { id });
    if (expectedBindingHash === null) qb.andWhere('browser_binding_hash IS NULL');
    else qb.andWhere('browser_binding_hash = :expected', { expected: expectedBindingHash });
    const result = await qb.execute();
    return (result.affected ?? 0) === 1;
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
    const result = await this.repo(tx).createQueryBuilder().delete().where(`expires_at < now() - interval '1 day'`).execute();
    return result.affected ?? 0;
  }
}
