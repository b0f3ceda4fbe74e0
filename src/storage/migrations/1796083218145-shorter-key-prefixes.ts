import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys kept their first 8 characters in clear (`display_prefix`): for a
 * generated key `nxs_` + 4 random characters are enough to tell keys apart
 * (the rest of the 256 bits stay secret); an operator's NEXUS_ADMIN_API_KEY
 * may be as short as 16 characters, half of which were stored, so it keeps
 * none. Every other key was generated in the `nxs_` format.
 */
export class ShorterKeyPrefixes1796083218145 implements MigrationInterface {
  name = 'ShorterKeyPrefixes1796083218145';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE api_keys SET display_prefix = CASE
        WHEN name <> 'NEXUS_ADMIN_API_KEY' AND display_prefix LIKE 'nxs\\_%' THEN left(display_prefix, 8)
        ELSE '' END`);
  }

  async down(): Promise<void> {
    // The removed characters are gone; nothing to restore.
  }
}
