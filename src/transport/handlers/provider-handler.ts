import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  CreateProviderResponseSchema,
  EnableCatalogProviderResponseSchema,
  GetCatalogProviderResponseSchema,
  ListCatalogProvidersResponseSchema,
  DeleteProviderResponseSchema,
  GetProviderResponseSchema,
  ListProvidersResponseSchema,
  ProviderSchema,
  UpdateProviderResponseSchema,
  type CreateProviderRequest,
  type DeleteProviderRequest,
  type EnableCatalogProviderRequest,
  type GetCatalogProviderRequest,
  type ListCatalogProvidersRequest,
  type GetProviderRequest,
  type ListProvidersRequest,
  type ProviderService as ProviderServiceDesc,
  type UpdateProviderRequest,
} from '../../../gen/ts/nexus/v1/provider_pb.js';
import type { ProviderCatalog } from '../../domain/catalog/provider-catalog.js';
import { InvalidFieldError } from '../../domain/shared/errors.js';
import type { ProviderService } from '../../domain/providers/provider-service.js';
import type { ProviderRemoval } from '../../domain/connections/provider-removal.js';
import { callerOf, optionalCallerOf } from '../access.js';
import { catalogEntryToProto, providerInputFromProto, providerToProto } from '../mappers/provider-mapper.js';
import { impliedMask } from '../mappers/field-mask.js';
import { UPDATABLE_FIELDS } from '../../domain/providers/provider-input.js';

export class ProviderHandler implements ServiceImpl<typeof ProviderServiceDesc> {
  constructor(
    private readonly providers: ProviderService,
    private readonly removal: ProviderRemoval,
    /** The catalog is read and validated on its first use (a catalog RPC), not at start. */
    private readonly catalogOf: () => ProviderCatalog,
  ) {}

  private get catalog(): ProviderCatalog {
    return this.catalogOf();
  }

  async listProviders(req: ListProvidersRequest, ctx: HandlerContext) {
    const caller = optionalCallerOf(ctx);
    const page = await this.providers.list(caller, req);
    return create(ListProvidersResponseSchema, {
      providers: page.providers.map((row) => providerToProto(row)),
      nextPageToken: page.nextPageToken,
    });
  }

  async getProvider(req: GetProviderRequest, ctx: HandlerContext) {
    const caller = optionalCallerOf(ctx);
    const row = await this.providers.get(caller, req.projectId, req.provider);
    return create(GetProviderResponseSchema, { provider: providerToProto(row, await this.providers.registeredClientId(row)) });
  }

  async createProvider(req: CreateProviderRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const row = await this.providers.create(caller, providerInputFromProto(req.provider));
    return create(CreateProviderResponseSchema, { provider: providerToProto(row) });
  }

  async updateProvider(req: UpdateProviderRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const input = providerInputFromProto(req.provider);
    const ref = req.provider?.id || req.provider?.name;
    if (!ref) throw new InvalidFieldError('provider.id', 'id or name identifies the provider to update');
    // AIP-134: without a mask, the fields the request sets; none set changes nothing (the domain's empty mask is a full replacement, for `providers apply`).
    const paths = impliedMask(ProviderSchema, req.provider!, req.updateMask?.paths, UPDATABLE_FIELDS);
    const row = paths.length > 0 ? await this.providers.update(caller, ref, input, paths) : await this.providers.require(caller.projectId, ref);
    return create(UpdateProviderResponseSchema, { provider: providerToProto(row) });
  }

  async deleteProvider(req: DeleteProviderRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    if (!req.provider) throw new InvalidFieldError('provider', 'is required');
    await this.removal.delete(caller, req.provider, req.force);
    return create(DeleteProviderResponseSchema, {});
  }

  listCatalogProviders(req: ListCatalogProvidersRequest) {
    const page = this.catalog.list(req);
    return create(ListCatalogProvidersResponseSchema, {
      providers: page.entries.map(catalogEntryToProto),
      nextPageToken: page.nextPageToken,
    });
  }

  getCatalogProvider(req: GetCatalogProviderRequest) {
    return create(GetCatalogProviderResponseSchema, { provider: catalogEntryToProto(this.catalog.get(req.name)) });
  }

  async enableCatalogProvider(req: EnableCatalogProviderRequest, ctx: HandlerContext) {
    const caller = callerOf(ctx);
    const input = this.catalog.providerInput(req.catalogName, req);
    const row = await this.providers.create(caller, input);
    return create(EnableCatalogProviderResponseSchema, { provider: providerToProto(row) });
  }
}
