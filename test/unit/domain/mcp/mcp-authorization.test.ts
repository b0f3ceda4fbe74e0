import { beforeEach, describe, expect, it } from 'vitest';
import type { McpClients } from '../../../../src/domain/mcp/mcp-clients.js';
import { McpAuthorization } from '../../../../src/domain/mcp/mcp-authorization.js';
import type { McpDiscovery } from '../../../../src/domain/mcp/mcp-discovery.js';
import type { ProviderRow } from '../../../../src/domain/model/provider.js';
import { providerRow } from '../../../support/rows.js';

// MCP authorization's target resolution with scripted discovery and client
// registration and a set clock: what is cached, for how long, and what a
// rejected registration throws away.

const NOW = Date.parse('2026-01-01T00:00:00Z');
const SERVER_URL = 'https://mcp.example.com/mcp';

describe('McpAuthorization.target', () => {
  let now: number;
  let discovered: string[];
  let forgotten: string[];
  let registered: number;
  let mcp: McpAuthorization;
  let provider: ProviderRow;

  beforeEach(() => {
    now = NOW;
    discovered = [];
    forgotten = [];
    registered = 0;
    const discovery = {
      discover: async (url: string) => {
        discovered.push(url);
        return { resource: url, scopesSupported: [], server: { issuer: 'https://as.example.com', token_endpoint: 'https://as.example.com/token' } };
      },
      forget: (url: string) => void forgotten.push(`discovery:${url}`),
    } as unknown as McpDiscovery;
    const clients = {
      clientFor: async () => ({ clientId: `dyn-${++registered}`, clientSecret: 's', authMethod: 'client_secret_post', registrationId: `reg-${registered}` }),
      forget: async (_projectId: string, id: string) => void forgotten.push(`registration:${id}`),
    } as unknown as McpClients;
    mcp = new McpAuthorization({ discovery, clients, fetch: globalThis.fetch, redirectUri: 'http://nexus.test/oauth/callback', clock: () => now });
    provider = {
      ...providerRow({ projectId: 'prj_a', authType: 'MCP', mcp: { serverUrl: SERVER_URL, clientId: '', defaultScopes: [] } }),
      createdAt: new Date(NOW),
      updatedAt: new Date(NOW),
    };
  });

  it('resolves once, reuses it for a minute of the clock, then resolves again', async () => {
    const first = await mcp.target(provider, '');
    expect([first.clientId, first.resource, first.tokenParams]).toEqual(['dyn-1', SERVER_URL, { resource: SERVER_URL }]);
    now += 59_999;
    expect((await mcp.target(provider, '')).clientId).toBe('dyn-1');
    expect(discovered).toHaveLength(1);
    now += 2;
    await mcp.target(provider, '');
    expect(discovered).toHaveLength(2);
  });

  it('an edited provider is resolved afresh at once', async () => {
    await mcp.target(provider, '');
    await mcp.target({ ...provider, updatedAt: new Date(NOW + 1) }, '');
    expect(discovered).toHaveLength(2);
  });

  it('a rejected dynamic registration is dropped everywhere, so the next use registers anew', async () => {
    const first = await mcp.target(provider, '');
    await first.onClientRejected!();
    await Promise.resolve();
    expect(forgotten).toEqual([`discovery:${SERVER_URL}`, 'registration:reg-1']);
    expect((await mcp.target(provider, '')).clientId).toBe('dyn-2');
  });

  it('refuses a provider that is not an MCP provider', async () => {
    await expect(mcp.target({ ...provider, authType: 'OAUTH2', mcp: null }, '')).rejects.toMatchObject({
      reason: 'PROVIDER_MISCONFIGURED',
      kind: 'failed_precondition',
    });
    expect(discovered).toEqual([]);
  });
});
