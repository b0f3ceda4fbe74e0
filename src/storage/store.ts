import type { DataSource } from 'typeorm';
import type { Tx } from './data-source.js';
import { ApiKeyRepository } from './repositories/api-key-repository.js';
import { AuthStateRepository } from './repositories/auth-state-repository.js';
import { ConnectionRepository } from './repositories/connection-repository.js';
import { ProjectRepository } from './repositories/project-repository.js';
import { ProviderRepository } from './repositories/provider-repository.js';

/** The repositories over one data source, and the transactions that span them. */
export class Store {
  readonly projects: ProjectRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly providers: ProviderRepository;
  readonly connections: ConnectionRepository;
  readonly authStates: AuthStateRepository;

  constructor(private readonly dataSource: DataSource) {
    this.projects = new ProjectRepository(dataSource);
    this.apiKeys = new ApiKeyRepository(dataSource);
    this.providers = new ProviderRepository(dataSource);
    this.connections = new ConnectionRepository(dataSource);
    this.authStates = new AuthStateRepository(dataSource);
  }

  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** True when the database answers within `timeoutMs`: a readiness probe must not hang. */
  async ping(timeoutMs = 2_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const query = this.dataSource.query('SELECT 1').then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([query, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
