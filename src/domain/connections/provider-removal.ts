import { ProviderInUseError } from '../shared/errors.js';
import type { Persistence } from '../ports/persistence.js';
import type { Principal } from '../shared/principal.js';
import type { ProviderService } from '../providers/provider-service.js';
import type { ConnectionService } from './connection-service.js';

/**
 * Deleting a provider, the one place it is orchestrated (DeleteProvider and
 * `nexus providers apply --prune`): a provider with live connections (any not
 * REVOKED) is PROVIDER_IN_USE unless forced; forced, each connection is
 * deleted as DeleteConnection would (revoked at the provider where it can,
 * credentials erased), then the provider. It needs both services, so it
 * stands beside ConnectionService (which already depends on ProviderService)
 * and neither service holds a reference back to the other.
 */
export class ProviderRemoval {
  constructor(
    private readonly store: Pick<Persistence, 'connections'>,
    private readonly providers: ProviderService,
    private readonly connections: ConnectionService,
  ) {}

  async delete(caller: Principal, idOrName: string, force: boolean): Promise<void> {
    const row = await this.providers.require(caller.projectId, idOrName);
    const live = await this.store.connections.countLive(caller.projectId, row.id);
    if (live > 0 && !force) throw new ProviderInUseError(row.name, live);
    if (live > 0) await this.connections.deleteAllForProvider(caller.projectId, row.id);
    await this.providers.remove(caller.projectId, row.id);
  }
}
