import { IsNull, type DataSource } from 'typeorm';
import type { RefreshTokensPort } from '../../domain/ports/persistence.js';
import { RefreshTokenEntity } from '../entities/refresh-token.js';
import type { RefreshTokenRow } from '../../domain/model/refresh-token.js';
import { BaseRepository, type Tx } from './base.js';

export class RefreshTokenRepository extends BaseRepository<RefreshTokenRow> implements RefreshTokensPort {
  constructor(dataSource: DataSource) {
    super(dataSource, RefreshTokenEntity);
  }

  async insert(row: Omit<RefreshTokenRow, 'createdAt' | 'usedAt'>, tx?: Tx): Promise<void> {
    await this.repo(tx).insert(row);
  }

  findByHash(tokenHash: string, tx?: Tx): Promise<RefreshTokenRow | null> {
    return this.repo(tx).findOneBy({ tokenHash });
  }

  /** Marks the token rotated away; true for exactly one caller. */
  async markUsed(tokenHash: string, now: Date, tx?: Tx): Promise<boolean> {
    const result = await this.repo(tx).update({ tokenHash, usedAt: IsNull() }, { usedAt: now });
    return (result.affected ?? 0) === 1;
  }

  /** Drops refresh tokens past their expiry by a day (their session has ended by then). */
  async purgeExpired(tx?: Tx): Promise<number> {
    const result = await this.repo(tx).createQueryBuilder().delete().where(`expires_at < now() - interval '1 day'`).execute();
    return result.affected ?? 0;
  }
}
