import type { DataSource } from 'typeorm';
import type { AccountsPort } from '../../domain/ports/persistence.js';
import { AccountEntity } from '../entities/account.js';
import type { AccountRow } from '../../domain/model/account.js';
import { BaseRepository, type Tx } from './base.js';

export class AccountRepository extends BaseRepository<AccountRow> implements AccountsPort {
  constructor(dataSource: DataSource) {
    super(dataSource, AccountEntity);
  }

  /** The project's account for the address, created on first sign-in (concurrent first sign-ins get one row). */
  async upsert(row: Omit<AccountRow, 'createdAt' | 'lastSignInAt'>, now: Date, tx?: Tx): Promise<AccountRow> {
    await this.repo(tx)
      .createQueryBuilder()
      .insert()
      .values({ ...row, lastSignInAt: now })
      .orUpdate(['last_sign_in_at'], ['project_id', 'address'])
      .execute();
    return (await this.repo(tx).findOneBy({ projectId: row.projectId, address: row.address }))!;
  }

  findById(projectId: string, id: string, tx?: Tx): Promise<AccountRow | null> {
    return this.repo(tx).findOneBy({ projectId, id });
  }
}
