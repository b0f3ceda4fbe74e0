import type { KeyRing } from '../../crypto/index.js';
import type { OutboundPolicy } from '../outbound/outbound-policy.js';
import type { SafeFetch } from '../outbound/safe-fetch.js';
import { McpAuthorization } from './mcp-authorization.js';
import { McpClients } from './mcp-clients.js';
import { McpDiscovery } from './mcp-discovery.js';
import type { Clock } from '../ports/clock.js';
import type { Persistence } from '../ports/persistence.js';

/** What MCP authorization needs of the configuration (src/config/config.ts's Config has it; the domain does not import config). */
export interface McpSettings {
  production: boolean;
  discoveryCacheSeconds: number;
  keyRing: KeyRing;
  baseUrl: string;
}

/** Wires discovery and client registration for MCP providers, on the SSRF-safe fetch. */
export function mcpAuthorization(config: McpSettings, store: Persistence, policy: OutboundPolicy, fetch: SafeFetch, clock?: Clock): McpAuthorization {
  const allowInsecureRequests = !config.production;
  const discovery = new McpDiscovery({ policy, fetch, ttlMs: config.discoveryCacheSeconds * 1000, allowInsecureRequests, ...(clock ? { clock } : {}) });
  const clients = new McpClients({ store, keyRing: config.keyRing, fetch, allowInsecureRequests, clientName: 'Nexus', ...(clock ? { clock } : {}) });
  return new McpAuthorization({ discovery, clients, fetch, redirectUri: `${config.baseUrl}/oauth/callback`, ...(clock ? { clock } : {}) });
}
