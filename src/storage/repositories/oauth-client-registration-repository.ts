import type { DataSource } from 'typeorm';
import type { ClientRegistrationsPort, RegistrationKey } from '../../domain/ports/persistence.js';

export type { RegistrationKey };
import { OAuthClientRegistrationEntity } from '../entities/oauth-client-registration.js';
import type { OAuthClientRegistrationRow } from '../../domain/model/oauth-client-registration.js';
import { BaseRepository, type Tx } from './base.js';

export class OAuthClientRegistrationRepository extends BaseRepository<OAuthClientRegistrationRow> implements ClientRegistrationsPort {
  constructor(dataSource: DataSource) {
    super(dataSource, OAuthClientRegistrationEntity);
  }

  find(key: RegistrationKey, tx?: Tx): Promise<OAuthClientRegistrationRow | null> {
    return this.repo(tx).findOneBy({ ...key });
  }

  /** The newest registration of a provider (for display), whatever its authorization server. */
  findLatestForProvider(projectId: string, providerId: string, tx?: Tx): Promise<OAuthClientRegistrationRow | null> {
    return this.repo(tx).findOne({ where: { projectId, providerId }, order: { createdAt: 'DESC' } });
  }

  async insert(row: Omit<OAuthClientRegistrationRow, 'createdAt'>, tx?: Tx): Promise<OAuthClientRegistrationRow> {
    await this.repo(tx).insert(row);
    return (await this.repo(tx).findOneBy({ id: row.id }))!;
  }

  async delete(projectId: string, id: string, tx?: Tx): Promise<void> {
    await this.repo(tx).delete({ projectId, id });
  }

  async deleteForProvider(projectId: string, providerId: string, tx?: Tx): Promise<void> {
    await this.repo(tx).delete({ projectId, providerId });
  }

  /** Every registration with a sealed secret, for key rotation. */
  listWithSecrets(tx?: Tx): Promise<OAuthClientRegistrationRow[]> {
    return this.repo(tx).createQueryBuilder('r').where('r.client_secret_sealed IS NOT NULL').getMany();
  }

  async updateSecret(id: string, clientSecretSealed: string, tx?: Tx): Promise<void> {
    await this.repo(tx).update({ id }, { clientSecretSealed });
  }
}
