import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Providers remember the catalog entry they were enabled from, and may ask
 * for connection fields before the redirect (their OAuth2 URLs are built
 * from them). The OAuth2 quirk settings live in the existing oauth2 jsonb.
 */
export class ProviderCatalogAndConnectionFields1795441953870 implements MigrationInterface {
  name = 'ProviderCatalogAndConnectionFields1795441953870';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE providers ADD COLUMN catalog_name text NULL`);
    await q.query(`ALTER TABLE providers ADD COLUMN connection_fields_schema jsonb NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE providers DROP COLUMN connection_fields_schema`);
    await q.query(`ALTER TABLE providers DROP COLUMN catalog_name`);
  }
}
