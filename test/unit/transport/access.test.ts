import { create, type DescMethod, type DescService } from '@bufbuild/protobuf';
import { Code, createContextValues, createRouterTransport, type HandlerContext, type Transport } from '@connectrpc/connect';
import { describe, expect, it } from 'vitest';
import { file_nexus_v1_audit } from '../../../gen/ts/nexus/v1/audit_pb.js';
import { file_nexus_v1_api_key } from '../../../gen/ts/nexus/v1/api_key_pb.js';
import { file_nexus_v1_auth } from '../../../gen/ts/nexus/v1/auth_pb.js';
import { file_nexus_v1_client } from '../../../gen/ts/nexus/v1/client_pb.js';
import { file_nexus_v1_connection } from '../../../gen/ts/nexus/v1/connection_pb.js';
import { file_nexus_v1_errors } from '../../../gen/ts/nexus/v1/errors_pb.js';
import { file_nexus_v1_project } from '../../../gen/ts/nexus/v1/project_pb.js';
import { file_nexus_v1_provider } from '../../../gen/ts/nexus/v1/provider_pb.js';
import { file_nexus_v1_token } from '../../../gen/ts/nexus/v1/token_pb.js';
import { file_nexus_v1_webhook } from '../../../gen/ts/nexus/v1/webhook_pb.js';
import { UnauthenticatedError } from '../../../src/domain/shared/errors.js';
import type { Principal } from '../../../src/domain/shared/principal.js';
import { ACCESS, accessInterceptor, callerOf, optionalCallerOf, policyOf, recheckOf, SERVICES } from '../../../src/transport/access.js';
import { errorInterceptor } from '../../../src/transport/error-interceptor.js';
import { callWithEmptyRequest, procedureOf, reasonOf } from '../../support/every-method.js';

/** Every RPC that takes no API key or user token. Adding one here is a security decision: say why in SECURITY.md. */
const OPEN = new Set([
  'nexus.v1.ProviderService/ListProviders',
  'nexus.v1.ProviderService/GetProvider',
  'nexus.v1.ProviderService/ListCatalogProviders',
  'nexus.v1.ProviderService/GetCatalogProvider',
  'nexus.v1.ConnectionService/GetCredentialSchema',
  'nexus.v1.ConnectionService/SubmitCredentials',
  'nexus.v1.AuthService/GetNonce',
  'nexus.v1.AuthService/Authenticate',
  'nexus.v1.AuthService/ExchangeToken',
  'nexus.v1.AuthService/Revoke',
  'nexus.v1.AuthService/ListScopes',
  'nexus.v1.AuthService/RedeemHandoff',
]);
/**
 * The scope each credentialed RPC needs (admin implies the project-level ones); `user`: a
 * signed-in user's token; `operator`: the installation operator (an installation-project key
 * holding `operator`).
 */
const NEEDS: Record<string, 'admin' | 'connections' | 'tokens' | 'user' | 'operator'> = {
  'nexus.v1.ProviderService/CreateProvider': 'admin',
  'nexus.v1.ProviderService/UpdateProvider': 'admin',
  'nexus.v1.ProviderService/DeleteProvider': 'admin',
  'nexus.v1.ProviderService/EnableCatalogProvider': 'admin',
  'nexus.v1.ConnectionService/CreateConnection': 'connections',
  'nexus.v1.ConnectionService/GetConnection': 'connections',
  'nexus.v1.ConnectionService/ListConnections': 'connections',
  'nexus.v1.ConnectionService/DeleteConnection': 'connections',
  'nexus.v1.ConnectionService/GetPendingFields': 'connections',
  'nexus.v1.ConnectionService/FinalizeConnection': 'connections',
  'nexus.v1.ConnectionService/WatchConnection': 'connections',
  'nexus.v1.ConnectionService/WatchConnections': 'connections',
  'nexus.v1.TokenService/GetToken': 'tokens',
  'nexus.v1.TokenService/RefreshToken': 'tokens',
  'nexus.v1.AuthService/InitHandoff': 'user',
  'nexus.v1.ClientService/CreateClient': 'admin',
  'nexus.v1.ClientService/GetClient': 'admin',
  'nexus.v1.ClientService/ListClients': 'admin',
  'nexus.v1.ClientService/UpdateClient': 'admin',
  'nexus.v1.ClientService/DeleteClient': 'admin',
  'nexus.v1.AuditService/ListAuditEvents': 'admin',
  'nexus.v1.AuditService/WatchAuditEvents': 'admin',
  'nexus.v1.ProjectService/CreateProject': 'operator',
  'nexus.v1.ProjectService/GetProject': 'operator',
  'nexus.v1.ProjectService/ListProjects': 'operator',
  'nexus.v1.ProjectService/UpdateProject': 'operator',
  'nexus.v1.ProjectService/DeleteProject': 'operator',
  'nexus.v1.ApiKeyService/CreateApiKey': 'admin',
  'nexus.v1.ApiKeyService/ListApiKeys': 'admin',
  'nexus.v1.ApiKeyService/RevokeApiKey': 'admin',
  'nexus.v1.ApiKeyService/RotateApiKey': 'admin',
  'nexus.v1.WebhookService/CreateWebhookEndpoint': 'admin',
  'nexus.v1.WebhookService/GetWebhookEndpoint': 'admin',
  'nexus.v1.WebhookService/ListWebhookEndpoints': 'admin',
  'nexus.v1.WebhookService/UpdateWebhookEndpoint': 'admin',
  'nexus.v1.WebhookService/DeleteWebhookEndpoint': 'admin',
  'nexus.v1.WebhookService/RotateWebhookSecret': 'admin',
  'nexus.v1.WebhookService/ListWebhookDeliveries': 'admin',
  'nexus.v1.WebhookService/RedeliverWebhook': 'admin',
};

const published: DescService[] = Object.values(SERVICES);
const methods: DescMethod[] = published.flatMap((s) => s.methods);
const procedure = procedureOf;

function principal(keyId: string, scopes: Principal['scopes'] extends ReadonlySet<infer S> ? S[] : never, user = false, projectId = 'prj_test'): Principal {
  return {
    projectId,
    keyId,
    scopes: new Set(scopes),
    ...(user ? { user: { accountId: 'acc', sessionId: keyId, clientId: 'cli', workspaceId: 'ws', webSession: false } } : {}),
  };
}
const KEYS: Record<string, Principal> = {
  admin: principal('admin', ['admin']),
  connections: principal('connections', ['connections']),
  tokens: principal('tokens', ['tokens']),
  user: principal('user', ['connections', 'tokens'], true),
  operator: principal('operator', ['operator'], false, 'prj_default'),
  // `operator` outside the installation project grants nothing beyond it (it is never issued there).
  strayOperator: principal('strayOperator', ['operator'], false, 'prj_test'),
};

/** The fake verification: `Bearer <name>` of KEYS; any other credential does not verify. */
let revoked = new Set<string>();
async function verify(ctx: { requestHeader: Headers }): Promise<Principal | undefined> {
  const auth = ctx.requestHeader.get('authorization');
  if (auth === null) return undefined;
  const name = auth.replace(/^Bearer /, '');
  const p = KEYS[name];
  if (!p || revoked.has(name)) throw new UnauthenticatedError('the API key is not valid');
  return p;
}

interface Seen {
  caller?: string;
  recheck?: () => Promise<Principal | undefined>;
}
let seen: Seen = {};

/** Every published method, implemented by a stub that records the caller the access interceptor handed it. */
function transport(): Transport {
  return createRouterTransport(
    (router) => {
      for (const service of published) {
        const impl: Record<string, unknown> = {};
        for (const m of service.methods) {
          const record = (ctx: HandlerContext) => {
            const policy = policyOf(service.typeName, m.name);
            seen = {
              caller:
                policy?.kind === 'scope' || policy?.kind === 'operator' || policy?.kind === 'user'
                  ? callerOf(ctx).keyId
                  : policy?.kind === 'optional'
                    ? optionalCallerOf(ctx)?.keyId
                    : undefined,
              ...(policy ? { recheck: recheckOf(ctx) } : {}),
            };
          };
          impl[m.localName] =
            m.methodKind === 'server_streaming'
              ? async function* (_req: unknown, ctx: HandlerContext) {
                  record(ctx);
                  yield create(m.output);
                }
              : (_req: unknown, ctx: HandlerContext) => {
                  record(ctx);
                  return create(m.output);
                };
        }
        router.service(service, impl as never);
      }
    },
    { router: { interceptors: [errorInterceptor(() => {}), accessInterceptor(verify)] } },
  );
}

function call(t: Transport, m: DescMethod, as?: string) {
  return callWithEmptyRequest(t, m, new Headers(as ? { authorization: `Bearer ${as}` } : {}));
}

describe('the access table', () => {
  it('covers every service of the published proto package', () => {
    const generated = [
      file_nexus_v1_api_key,
      file_nexus_v1_audit,
      file_nexus_v1_auth,
      file_nexus_v1_client,
      file_nexus_v1_connection,
      file_nexus_v1_errors,
      file_nexus_v1_project,
      file_nexus_v1_provider,
      file_nexus_v1_token,
      file_nexus_v1_webhook,
    ]
      .flatMap((f) => f.services)
      .map((s) => s.typeName)
      .sort();
    expect(published.map((s) => s.typeName).sort()).toEqual(generated);
  });

  it('has a policy for every method, and the expected one', () => {
    expect(methods.length).toBe(OPEN.size + Object.keys(NEEDS).length);
    for (const m of methods) {
      const policy = policyOf(m.parent.typeName, m.name);
      expect(policy, procedure(m)).toBeDefined();
      const needs = NEEDS[procedure(m)];
      if (needs === 'user') expect(policy).toEqual({ kind: 'user' });
      else if (needs === 'operator') expect(policy).toEqual({ kind: 'operator' });
      else if (needs) expect(policy).toEqual({ kind: 'scope', scope: needs });
      else expect(OPEN.has(procedure(m)), `${procedure(m)} is open but not listed in OPEN`).toBe(true);
    }
    // The typed table and the lookup agree.
    expect(policyOf(SERVICES.tokens.typeName, 'GetToken')).toBe(ACCESS.tokens.getToken);
  });
});

describe('the access interceptor, over every method of every service', () => {
  const t = transport();

  it('refuses anonymous calls to every credentialed method with UNAUTHENTICATED, before the handler runs', async () => {
    for (const m of methods) {
      seen = {};
      const err = await call(t, m);
      if (OPEN.has(procedure(m))) {
        expect(err, procedure(m)).toBeUndefined();
        expect(seen.caller, procedure(m)).toBeUndefined();
      } else {
        expect({ p: procedure(m), code: err && Code[err.code], reason: reasonOf(err) }).toEqual({
          p: procedure(m),
          code: 'Unauthenticated',
          reason: 'ERROR_REASON_UNAUTHENTICATED',
        });
        expect(seen, procedure(m)).toEqual({});
      }
    }
  });

  it('refuses a credential that does not verify wherever credentials are looked at', async () => {
    for (const m of methods) {
      const err = await call(t, m, 'forged');
      const policy = policyOf(m.parent.typeName, m.name)!;
      if (policy.kind === 'state' || policy.kind === 'client' || policy.kind === 'public') expect(err, procedure(m)).toBeUndefined();
      else expect(err && Code[err.code], procedure(m)).toBe('Unauthenticated');
    }
  });

  it("lets each scope call exactly the methods that need it (admin: all but the operator's), and hands the handler the caller", async () => {
    for (const key of Object.keys(KEYS)) {
      for (const m of methods) {
        seen = {};
        const err = await call(t, m, key);
        const needs = NEEDS[procedure(m)];
        const p = KEYS[key]!;
        const isOperator = p.scopes.has('operator') && p.projectId === 'prj_default' && !p.user;
        const allowed =
          !needs || (needs === 'user' ? p.user !== undefined : needs === 'operator' ? isOperator : p.scopes.has(needs) || p.scopes.has('admin') || isOperator);
        if (allowed) {
          expect(err, `${key} -> ${procedure(m)}`).toBeUndefined();
          const policy = policyOf(m.parent.typeName, m.name)!;
          const expected = policy.kind === 'scope' || policy.kind === 'operator' || policy.kind === 'user' || policy.kind === 'optional' ? key : undefined;
          expect(seen.caller, `${key} -> ${procedure(m)}`).toBe(expected);
        } else {
          const want = needs === 'user' ? 'Unauthenticated' : 'PermissionDenied';
          expect({ call: `${key} -> ${procedure(m)}`, code: err && Code[err.code] }).toEqual({ call: `${key} -> ${procedure(m)}`, code: want });
        }
      }
    }
  });

  it('rechecks a call afresh under the same policy (what ends a stream when its key is revoked)', async () => {
    revoked = new Set();
    await call(t, SERVICES.connections.method.watchConnections, 'connections');
    const recheck = seen.recheck!;
    await expect(recheck()).resolves.toMatchObject({ keyId: 'connections' });
    revoked = new Set(['connections']);
    await expect(recheck()).rejects.toBeInstanceOf(UnauthenticatedError);
    revoked = new Set();
  });

  it('refuses a procedure outside the table unless it was registered as unguarded', async () => {
    expect(policyOf('bench.Stranger', 'Echo')).toBeUndefined();
    const req = { service: { typeName: 'bench.Stranger' }, method: { name: 'Echo' }, header: new Headers(), contextValues: createContextValues() };
    const refused = accessInterceptor(verify)(async () => {
      throw new Error('the handler must not run');
    });
    await expect(refused(req as never)).rejects.toBeInstanceOf(UnauthenticatedError);
    const passed = accessInterceptor(verify, () => new Set(['bench.Stranger']))(async () => 'ran' as never);
    await expect(passed(req as never)).resolves.toBe('ran');
  });
});
