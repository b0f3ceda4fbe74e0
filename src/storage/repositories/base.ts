import type { DataSource, EntityManager, EntitySchema, ObjectLiteral, Repository } from 'typeorm';

/** A transaction handle; domain code passes it through without looking inside. */
export type Tx = EntityManager;

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
