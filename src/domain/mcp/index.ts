import type { Config } from '../../config/config.js';
import type { Store } from '../../storage/store.js';
import type { OutboundPolicy } from '../outbound/outbound-policy.js';
import { createSafeFetch } from '../outbound/safe-fetch.js';
import { McpAuthorization } from './mcp-authorization.js';
import { McpClients } from './mcp-clients.js';
import { McpDiscovery } from './mcp-discovery.js';

/** Wires discovery, client registration and the SSRF-safe fetch for MCP providers. */
export function mcpAuthorization(config: Config, store: Store, policy: OutboundPolicy): McpAuthorization {
  const fetch = createSafeFetch(policy, { timeoutMs: config.providerTimeoutMs });
  const allowInsecureRequests = !config.production;
  const discovery = new McpDiscovery({ policy, fetch, ttlMs: config.discoveryCacheSeconds * 1000, allowInsecureRequests });
  const clients = new McpClients({ store, keyRing: config.keyRing, fetch, allowInsecureRequests, clientName: 'Nexus' });
  return new McpAuthorization({ discovery, clients, fetch, redirectUri: `${config.baseUrl}/oauth/callback` });
}
