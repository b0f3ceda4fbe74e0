import { IsNull, type DataSource } from 'typeorm';
import type { OneTimeCodesPort } from '../../domain/ports/persistence.js';
import { OneTimeCodeEntity } from '../entities/one-time-code.js';
import type { OneTimeCodeKind, OneTimeCodeRow } from '../../domain/model/one-time-code.js';
import { BaseRepository, type Tx } from './base.js';

export class OneTimeCodeRepository extends BaseRepository<OneTimeCodeRow> implements OneTimeCodesPort {
  constructor(dataSource: DataSource) {
    super(dataSource, OneTimeCodeEntity);
  }

  async insert(row: Omit<OneTimeCodeRow, 'usedAt'>, tx?: Tx): Promise<void> {
    await this.repo(tx).insert(row);
  }

  findByHash(kind: OneTimeCodeKind, codeHash: string, tx?: Tx): Promise<OneTimeCodeRow | null> {
    return this.repo(tx).findOneBy({ kind, codeHash });
  }

  /** Unused, unexpired codes of a kind for one client, counted up to `cap` (the count stops there). */
  async countLive(kind: OneTimeCodeKind, clientId: string, now: Date, cap: number, tx?: Tx): Promise<number> {
    const rows: { n: string }[] = await this.repo(tx).query(
      `SELECT count(*) AS n FROM (SELECT 1 FROM one_time_codes WHERE kind = $1 AND client_id = $2 AND expires_at > $3 AND used_at IS NULL LIMIT $4) live`,
      [kind, clientId, now, cap],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Marks the code used. Exactly one caller gets `true`: concurrent replays lose. */
  async markUsed(kind: OneTimeCodeKind, codeHash: string, now: Date, tx?: Tx): Promise<boolean> {
    const result = await this.repo(tx).update({ kind, codeHash, usedAt: IsNull() }, { usedAt: now });
    return (result.affected ?? 0) === 1;
  }

  /** Drops codes that expired more than a day ago (kept a day so a late replay still gets "already used"/"expired"). */
  async purgeExpired(tx?: Tx): Promise<number> {
    const result = await this.repo(tx).createQueryBuilder().delete().where(`expires_at < now() - interval '1 day'`).execute();
    return result.affected ?? 0;
  }
}
