import type { DataSource } from 'typeorm';
import type { Tx } from './repositories/base.js';
import type { Persistence } from '../domain/ports/persistence.js';
import { AuditRepository } from './repositories/audit-repository.js';
import { ApiKeyRepository } from './repositories/api-key-repository.js';
import { AuthStateRepository } from './repositories/auth-state-repository.js';
import { ConnectionEventRepository } from './repositories/connection-event-repository.js';
import { ConnectionRepository } from './repositories/connection-repository.js';
import { OAuthClientRegistrationRepository } from './repositories/oauth-client-registration-repository.js';
import { ProjectRepository } from './repositories/project-repository.js';
import { ProjectQuotasRepository } from './repositories/project-quotas-repository.js';
import { ProviderRepository } from './repositories/provider-repository.js';
import { OAuthClientRepository } from './repositories/oauth-client-repository.js';
import { AccountRepository } from './repositories/account-repository.js';
import { AuthSessionRepository } from './repositories/auth-session-repository.js';
import { RefreshTokenRepository } from './repositories/refresh-token-repository.js';
import { OneTimeCodeRepository } from './repositories/one-time-code-repository.js';
import { SigningKeyRepository } from './repositories/signing-key-repository.js';
import { RefreshRepository } from './repositories/refresh-repository.js';
import { WebhookEndpointRepository } from './repositories/webhook-endpoint-repository.js';
import { WebhookDeliveryRepository } from './repositories/webhook-delivery-repository.js';

/** The repositories over one data source, and the transactions that span them. */
export class Store implements Persistence {
  readonly projects: ProjectRepository;
  readonly projectQuotas: ProjectQuotasRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly providers: ProviderRepository;
  readonly connections: ConnectionRepository;
  readonly authStates: AuthStateRepository;
  readonly events: ConnectionEventRepository;
  readonly clients: OAuthClientRepository;
  readonly accounts: AccountRepository;
  readonly sessions: AuthSessionRepository;
  readonly refreshTokens: RefreshTokenRepository;
  readonly oneTimeCodes: OneTimeCodeRepository;
  readonly signingKeys: SigningKeyRepository;
  readonly refresh: RefreshRepository;
  readonly clientRegistrations: OAuthClientRegistrationRepository;
  readonly audit: AuditRepository;
  readonly webhooks: WebhookEndpointRepository;
  /** The webhook delivery queue (not a Persistence port: only the delivery worker and redelivery use it). */
  readonly webhookDeliveries: WebhookDeliveryRepository;

  constructor(private readonly dataSource: DataSource) {
    this.projects = new ProjectRepository(dataSource);
    this.projectQuotas = new ProjectQuotasRepository(dataSource);
    this.apiKeys = new ApiKeyRepository(dataSource);
    this.providers = new ProviderRepository(dataSource);
    this.connections = new ConnectionRepository(dataSource);
    this.authStates = new AuthStateRepository(dataSource);
    this.events = new ConnectionEventRepository(dataSource);
    this.clients = new OAuthClientRepository(dataSource);
    this.accounts = new AccountRepository(dataSource);
    this.sessions = new AuthSessionRepository(dataSource);
    this.refreshTokens = new RefreshTokenRepository(dataSource);
    this.oneTimeCodes = new OneTimeCodeRepository(dataSource);
    this.signingKeys = new SigningKeyRepository(dataSource);
    this.refresh = new RefreshRepository(dataSource);
    this.clientRegistrations = new OAuthClientRegistrationRepository(dataSource);
    this.audit = new AuditRepository(dataSource);
    this.webhooks = new WebhookEndpointRepository(dataSource);
    this.webhookDeliveries = new WebhookDeliveryRepository(dataSource);
  }

  /** `repeatableRead` gives every read in `work` one consistent snapshot (a watch's snapshot and its cursor). */
  transaction<T>(work: (tx: Tx) => Promise<T>, options: { repeatableRead?: boolean } = {}): Promise<T> {
    return options.repeatableRead ? this.dataSource.transaction('REPEATABLE READ', work) : this.dataSource.transaction(work);
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
