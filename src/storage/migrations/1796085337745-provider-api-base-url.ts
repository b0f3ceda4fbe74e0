import type { MigrationInterface, QueryRunner } from 'typeorm';

/** providers.api_base_url: the service's API base URL, for a credential-injecting proxy. */
export class ProviderApiBaseUrl1796085337745 implements MigrationInterface {
  name = 'ProviderApiBaseUrl1796085337745';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE providers ADD COLUMN api_base_url text NOT NULL DEFAULT ''`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE providers DROP COLUMN api_base_url`);
  }
}
