import type { DescMessage } from '@bufbuild/protobuf';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ProviderSchema } from '../../../gen/ts/nexus/v1/provider_pb.js';
import { KeyRing } from '../../../src/crypto/index.js';
import type { McpConfig, OAuth2Config, ProviderRow } from '../../../src/domain/model/provider.js';
import type { OutboundPolicy } from '../../../src/domain/outbound/outbound-policy.js';
import { checkProviderDocument, providerInputFromDocument, type ProviderDocument } from '../../../src/domain/providers/provider-document.js';
import type { ProviderInput } from '../../../src/domain/providers/provider-input.js';
import { ProviderService } from '../../../src/domain/providers/provider-service.js';
import type { Principal } from '../../../src/domain/shared/principal.js';
import { DEFAULT_PROJECT_ID } from '../../../src/domain/shared/workspace-scope.js';
import { FieldBehavior, fieldBehaviors, isOutputOnly } from '../../../src/transport/mappers/field-behavior.js';
import { providerInputFromProto, providerToDocument, providerToProto } from '../../../src/transport/mappers/provider-mapper.js';
import { fakePersistence } from '../../support/fake-persistence.js';

// One path into the provider model: a YAML/catalog document and a Provider
// message both go through providerInputFromDocument (the message via
// providerToDocument). Round trip over every settings field:
// document -> model -> proto -> model -> document, equal. The documents below
// must set every field the proto accepts (checked against the descriptor) and
// every settings key of the model (checked against ProviderRow's keys).

const common = (name: string) => ({
  name,
  display_name: `${name.toUpperCase()} Inc.`,
  description: `The ${name} API`,
  logo_url: `https://${name}.example.com/logo.png`,
  categories: ['dev', 'crm'],
  enabled: false,
});

const OAUTH2_SETTINGS = {
  client_id: 'client-1',
  client_secret: 'oauth-client-secret',
  default_scopes: ['read', 'write'],
  scope_separator: ',',
  authorize_params: { prompt: 'consent' },
  client_auth_method: 'client_secret_post',
  token_response_format: 'form',
  token_params: { audience: 'https://api.acme.example.com' },
  refresh_token_rotation: 'rotates',
  pkce: 'unsupported',
  userinfo_url: 'https://api.acme.example.com/user',
  userinfo_paths: { subject: 'id', email: 'profile.email' },
  token_response_paths: {
    access_token: 'authed_user.access_token',
    refresh_token: 'authed_user.refresh_token',
    expires_in: 'authed_user.expires_in',
    scope: 'authed_user.scope',
  },
};

const DOCUMENTS: Record<string, ProviderDocument> = {
  'OAUTH2 by endpoints': {
    ...common('acme'),
    auth_type: 'OAUTH2',
    oauth2: {
      ...OAUTH2_SETTINGS,
      authorization_url: 'https://{tenant}.acme.example.com/authorize',
      token_url: 'https://{tenant}.acme.example.com/token',
      revocation_url: 'https://acme.example.com/revoke',
      expected_issuer: 'https://acme.example.com',
    },
    connection_fields_schema: { type: 'object', properties: { tenant: { type: 'string' } }, required: ['tenant'] },
    post_oauth_fields_schema: { type: 'object', properties: { site: { type: 'string' } }, required: ['site'] },
    api_base_url: 'https://{tenant}.acme.example.com/api',
  },
  'OAUTH2 by discovery': {
    ...common('disco'),
    auth_type: 'OAUTH2',
    oauth2: { ...OAUTH2_SETTINGS, issuer: 'https://login.disco.example.com' },
    api_base_url: 'https://api.disco.example.com',
  },
  API_KEY: {
    ...common('keyed'),
    auth_type: 'API_KEY',
    credential_schema: {
      type: 'object',
      properties: { token: { type: 'string', format: 'password' }, account: { type: 'string' } },
      required: ['token'],
    },
    api_key: { location: 'query', name: 'key', prefix: 'Token ', field: 'token' },
    api_base_url: 'https://api.keyed.example.com',
  },
  AWS_SIGV4: {
    ...common('aws'),
    auth_type: 'AWS_SIGV4',
    aws_sigv4: { service: 's3', default_region: 'eu-west-1' },
  },
  MCP: {
    ...common('tools'),
    auth_type: 'MCP',
    mcp: { server_url: 'https://mcp.tools.example.com/mcp', client_id: 'mcp-client', client_secret: 'mcp-client-secret', default_scopes: ['tools'] },
  },
};

/** Where each model key comes from in a document; null for what the server sets. Adding a key to ProviderRow fails to compile here. */
const ROW_KEYS = {
  id: null,
  projectId: null,
  createdAt: null,
  updatedAt: null,
  catalogName: null, // set from a providers file's `catalog:` or EnableCatalogProvider, never by the document itself
  name: 'name',
  displayName: 'display_name',
  description: 'description',
  logoUrl: 'logo_url',
  categories: 'categories',
  authType: 'auth_type',
  enabled: 'enabled',
  oauth2: 'oauth2',
  clientSecretSealed: 'oauth2.client_secret',
  credentialSchema: 'credential_schema',
  postOauthFieldsSchema: 'post_oauth_fields_schema',
  apiKey: 'api_key',
  awsSigv4: 'aws_sigv4',
  connectionFieldsSchema: 'connection_fields_schema',
  mcp: 'mcp',
  apiBaseUrl: 'api_base_url',
} satisfies Record<keyof ProviderRow, string | null>;
const OAUTH2_KEYS = {
  clientId: 'client_id',
  authorizationUrl: 'authorization_url',
  tokenUrl: 'token_url',
  revocationUrl: 'revocation_url',
  issuer: 'issuer',
  expectedIssuer: 'expected_issuer',
  defaultScopes: 'default_scopes',
  scopeSeparator: 'scope_separator',
  authorizeParams: 'authorize_params',
  clientAuthMethod: 'client_auth_method',
  tokenResponseFormat: 'token_response_format',
  tokenParams: 'token_params',
  tokenResponsePaths: 'token_response_paths',
  refreshTokenRotation: 'refresh_token_rotation',
  pkce: 'pkce',
  userinfoUrl: 'userinfo_url',
  userinfoPaths: 'userinfo_paths',
} satisfies Record<keyof OAuth2Config, string>;
const MCP_KEYS = { serverUrl: 'server_url', clientId: 'client_id', defaultScopes: 'default_scopes' } satisfies Record<keyof McpConfig, string>;

/** Field paths of a message a document may set: not OUTPUT_ONLY; messages other than Struct expanded. */
function writablePaths(schema: DescMessage, prefix = ''): string[] {
  return schema.fields
    .filter((f) => !isOutputOnly(f))
    .flatMap((f) =>
      f.fieldKind === 'message' && f.message.typeName !== 'google.protobuf.Struct' ? writablePaths(f.message, `${prefix}${f.name}.`) : [`${prefix}${f.name}`],
    );
}

/** The same paths, as a document sets them. */
function documentPaths(doc: Record<string, unknown>, schema: DescMessage, prefix = ''): string[] {
  return Object.entries(doc).flatMap(([key, value]) => {
    const f = schema.fields.find((x) => x.name === key);
    if (f?.fieldKind === 'message' && f.message.typeName !== 'google.protobuf.Struct') {
      return documentPaths(value as Record<string, unknown>, f.message, `${prefix}${key}.`);
    }
    return [`${prefix}${key}`];
  });
}

/** The document without what the server never returns (INPUT_ONLY: client secrets). */
function withoutInputOnly(doc: Record<string, unknown>, schema: DescMessage): ProviderDocument {
  const out: ProviderDocument = {};
  for (const [key, value] of Object.entries(doc)) {
    const f = schema.fields.find((x) => x.name === key)!;
    if (fieldBehaviors(f).includes(FieldBehavior.INPUT_ONLY)) continue;
    out[key] =
      f.fieldKind === 'message' && f.message.typeName !== 'google.protobuf.Struct' ? withoutInputOnly(value as Record<string, unknown>, f.message) : value;
  }
  return out;
}

/** The input with the document's write-only client secrets. */
function withSecrets(input: ProviderInput, doc: ProviderDocument): ProviderInput {
  const secret = (block: unknown) => String((block as Record<string, unknown>).client_secret);
  return {
    ...input,
    oauth2: input.oauth2 && { ...input.oauth2, clientSecret: secret(doc.oauth2) },
    mcp: input.mcp && { ...input.mcp, clientSecret: secret(doc.mcp) },
  };
}

const nonEmpty = (v: unknown) =>
  v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && Object.keys(v as object).length === 0);

describe('provider documents and protobuf: one path into the model', () => {
  const caller: Principal = { projectId: DEFAULT_PROJECT_ID, keyId: 'key_test', scopes: new Set(['admin']) };
  const outbound = { checkUrlResolved: async (v: string) => new URL(v) } as unknown as OutboundPolicy;
  const ring = KeyRing.generate('k1');
  let providers: () => ProviderService;

  beforeEach(() => {
    // A fresh store per call: the same name is created once from the document and once from the proto.
    providers = () => new ProviderService(fakePersistence(), ring, false, outbound, async () => {});
  });

  it('the documents set every field the Provider message accepts', () => {
    const set = new Set(Object.values(DOCUMENTS).flatMap((d) => documentPaths(d, ProviderSchema)));
    const missing = writablePaths(ProviderSchema).filter((p) => !set.has(p));
    expect(missing, 'add these fields to a document above (and map them)').toEqual([]);
  });

  const rows: ProviderRow[] = [];
  for (const [kind, source] of Object.entries(DOCUMENTS)) {
    it(`round-trips ${kind}: YAML -> model -> proto -> model -> YAML`, async () => {
      // As `nexus providers apply` and the catalog read a file: YAML text, parsed.
      const doc = parse(stringify(source)) as ProviderDocument;
      const yamlOf = (d: ProviderDocument) => parse(stringify(d)) as unknown;
      checkProviderDocument(doc, kind);
      const fromDocument = await providers().create(caller, providerInputFromDocument(doc, kind));
      const proto = providerToProto(fromDocument);
      const expected = withoutInputOnly(doc, ProviderSchema);
      expect(yamlOf(providerToDocument(proto))).toEqual(expected);

      // proto -> model: the proto carries no client secret (INPUT_ONLY), so it is written again, as an update would.
      const input = withSecrets(providerInputFromProto(proto), doc);
      const fromProto = await providers().create(caller, input);
      const settings = (r: ProviderRow) => ({ ...r, id: '', createdAt: undefined, updatedAt: undefined, clientSecretSealed: r.clientSecretSealed !== null });
      expect(settings(fromProto)).toEqual(settings(fromDocument));
      expect(yamlOf(providerToDocument(providerToProto(fromProto)))).toEqual(expected);
      rows.push(fromDocument);
    });
  }

  it('the documents set every settings key of the model', () => {
    expect(rows).toHaveLength(Object.keys(DOCUMENTS).length);
    const unset = (keys: Record<string, string | null>, values: Record<string, unknown>[]) =>
      Object.entries(keys)
        .filter(([key, from]) => from !== null && !values.some((v) => nonEmpty(v[key])))
        .map(([key]) => key);
    expect(unset(ROW_KEYS, rows as unknown as Record<string, unknown>[])).toEqual([]);
    expect(rows.some((r) => r.enabled === false)).toBe(true); // `enabled` defaults to true
    expect(
      unset(
        OAUTH2_KEYS,
        rows.flatMap((r) => (r.oauth2 ? [r.oauth2 as unknown as Record<string, unknown>] : [])),
      ),
    ).toEqual([]);
    expect(
      unset(
        MCP_KEYS,
        rows.flatMap((r) => (r.mcp ? [r.mcp as unknown as Record<string, unknown>] : [])),
      ),
    ).toEqual([]);
  });
});
