import type { DataSource, EntitySchema, ObjectLiteral, Repository } from 'typeorm';
import type { Tx } from '../data-source.js';

/** Repositories run on the given transaction, or on the pool when there is none. */
export abstract class BaseRepository<T extends ObjectLiteral> {
  constructor(
    protected readonly dataSource: DataSource,
    private readonly entity: EntitySchema<T>,
  ) {}

  protected repo(tx?: Tx): Repository<T> {
    return (tx ?? this.dataSource.manager).getRepository(this.entity);
  }
}
