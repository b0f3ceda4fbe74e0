import { InitialSchema1763900000000 } from './1763900000000-initial-schema.js';
import { ConnectionEvents1795440453879 } from './1795440453879-connection-events.js';
import { RefreshLease1795440721884 } from './1795440721884-refresh-lease.js';
import { ProviderCatalogAndConnectionFields1795441953870 } from './1795441953870-provider-catalog-and-connection-fields.js';
import { EndUserAuth1795441963271 } from './1795441963271-end-user-auth.js';
import { McpProviders1795443047026 } from './1795443047026-mcp-providers.js';
import { ShorterKeyPrefixes1796083218145 } from './1796083218145-shorter-key-prefixes.js';
import { ConsentBinding1796084593375 } from './1796084593375-consent-binding.js';
import { ProviderApiBaseUrl1796085337745 } from './1796085337745-provider-api-base-url.js';
import { AuditLog1796090000000 } from './1796090000000-audit-log.js';
import { ProjectQuotas1796092339961 } from './1796092339961-project-quotas.js';
import { ProjectSettingsAndKeyLifecycle1796093588760 } from './1796093588760-project-settings-and-key-lifecycle.js';
import { Webhooks1796102990338 } from './1796102990338-webhooks.js';

/** Every migration, oldest first. TypeORM runs the ones not yet recorded. */
export const migrations = [
  InitialSchema1763900000000,
  ConnectionEvents1795440453879,
  RefreshLease1795440721884,
  ProviderCatalogAndConnectionFields1795441953870,
  EndUserAuth1795441963271,
  McpProviders1795443047026,
  ShorterKeyPrefixes1796083218145,
  ConsentBinding1796084593375,
  ProviderApiBaseUrl1796085337745,
  AuditLog1796090000000,
  ProjectQuotas1796092339961,
  ProjectSettingsAndKeyLifecycle1796093588760,
  Webhooks1796102990338,
];
