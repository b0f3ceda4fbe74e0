import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/databases.js';
import { expectConnectError } from '../support/errors.js';
import { apiKeyProvider } from '../support/fixtures.js';
import { ADMIN_KEY, clients, startTestApp, type Clients, type TestApp } from '../support/test-app.js';

describe.each(BACKENDS)('Provider.api_base_url (%s)', (backend) => {
  let nexus: TestApp;
  let admin: Clients;

  beforeAll(async () => {
    nexus = await startTestApp({ backend });
    admin = clients(nexus.baseUrl, ADMIN_KEY);
  });
  afterAll(async () => {
    await nexus?.close();
  });

  it('is stored, returned, updated through its mask path and cleared', async () => {
    const created = (
      await admin.providers.createProvider({
        provider: apiKeyProvider({ name: 'base-url', apiBaseUrl: 'https://api.example.com/v1' }),
      })
    ).provider!;
    expect(created.apiBaseUrl).toBe('https://api.example.com/v1');
    expect((await admin.providers.getProvider({ provider: 'base-url' })).provider!.apiBaseUrl).toBe('https://api.example.com/v1');
    const rows = (await nexus.app.database.dataSource.query(`SELECT api_base_url FROM providers WHERE id = $1`, [created.id])) as { api_base_url: string }[];
    expect(rows[0]!.api_base_url).toBe('https://api.example.com/v1');

    const updated = (
      await admin.providers.updateProvider({
        provider: { ...created, apiBaseUrl: 'https://api.example.com/v2', description: 'not in the mask' },
        updateMask: { paths: ['api_base_url'] },
      })
    ).provider!;
    expect(updated.apiBaseUrl).toBe('https://api.example.com/v2');
    expect(updated.description).toBe(created.description);

    const cleared = (await admin.providers.updateProvider({ provider: { ...updated, apiBaseUrl: '' }, updateMask: { paths: ['api_base_url'] } })).provider!;
    expect(cleared.apiBaseUrl).toBe('');
  });

  it('refuses a plain-http or query-carrying base URL with INVALID_FIELD', async () => {
    await expectConnectError(
      admin.providers.createProvider({ provider: apiKeyProvider({ name: 'base-url-http', apiBaseUrl: 'http://api.example.com' }) }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    await expectConnectError(
      admin.providers.createProvider({ provider: apiKeyProvider({ name: 'base-url-query', apiBaseUrl: 'https://api.example.com/?k=v' }) }),
      Code.InvalidArgument,
      'INVALID_FIELD',
    );
    await expectConnectError(admin.providers.getProvider({ provider: 'base-url-http' }), Code.NotFound, 'PROVIDER_NOT_FOUND');
  });
});
