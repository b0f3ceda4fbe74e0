import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CATALOG_FILE, CATALOG_SCHEMA_FILE, ProviderCatalog } from '../../../src/domain/catalog/provider-catalog.js';
import { placeholders } from '../../../src/domain/oauth/url-template.js';

type Entry = Record<string, any>;
const doc = parse(readFileSync(CATALOG_FILE, 'utf8')) as { providers: Entry[] };
const schema = JSON.parse(readFileSync(CATALOG_SCHEMA_FILE, 'utf8'));
const entries = doc.providers;

const REQUIRED = [
  'google',
  'microsoft',
  'github',
  'gitlab',
  'slack',
  'notion',
  'atlassian',
  'linear',
  'salesforce',
  'hubspot',
  'dropbox',
  'box',
  'zoom',
  'discord',
  'asana',
  'figma',
  'airtable',
  'stripe',
  'openai',
  'anthropic',
  'aws-s3',
];

describe('catalog/providers.yaml', () => {
  it('passes its JSON Schema', () => {
    const validate = new Ajv2020({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('is refused by the schema when an entry is broken (the schema test has teeth)', () => {
    const validate = new Ajv2020({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
    const broken = (patch: (e: Entry) => void) => {
      const copy = structuredClone(doc);
      patch(copy.providers.find((e) => e.name === 'github')!);
      return validate(copy);
    };
    expect(broken((e) => (e.oauth2.token_url = 'http://github.com/token'))).toBe(false);
    expect(broken((e) => (e.oauth2.token_response_format = 'xml'))).toBe(false);
    expect(broken((e) => (e.oauth2.client_auth_method = 'private_key_jwt'))).toBe(false);
    expect(broken((e) => delete e.docs_url)).toBe(false);
    expect(broken((e) => (e.oauth2.token_response_paths = { access_token: 'a..b' }))).toBe(false);
    expect(broken((e) => (e.auth_type = 'API_KEY'))).toBe(false);
    // Every entry says where its values were checked.
    expect(broken((e) => delete e.sources)).toBe(false);
    expect(broken((e) => (e.sources = [{ url: 'https://example.com/', checked: 'yesterday', values: ['api_base_url'] }]))).toBe(false);
    expect(broken((e) => (e.sources = [{ url: 'http://example.com/', checked: '2026-12-01', values: ['api_base_url'] }]))).toBe(false);
    expect(broken((e) => (e.sources = [{ url: 'https://example.com/', checked: '2026-12-01', values: [] }]))).toBe(false);
    expect(broken((e) => (e.unverified = ['oauth2.token_urll']))).toBe(false);
    expect(broken((e) => (e.api_base_url = 'https://api.github.com/?x=1'))).toBe(false);
  });

  it('accounts for every checkable value: in one or more sources, or marked unverified, never both', () => {
    const settings = (e: Entry): string[] => [
      ...Object.keys(e.oauth2 ?? {}).map((k) => `oauth2.${k}`),
      ...['api_base_url', 'connection_fields_schema', 'post_oauth_fields_schema', 'api_key', 'aws_sigv4'].filter((k) => k in e),
      ...Object.keys(e.mcp ?? {}).map((k) => `mcp.${k}`),
    ];
    let checked = 0;
    for (const e of entries) {
      // Two independent sources may confirm the same value (the service's docs and a public
      // repository's definition); a value is never both confirmed and marked unverified.
      const sources = e.sources as { url: string; values: string[] }[];
      for (const s of sources) expect(new Set(s.values).size, `${e.name}: a value listed twice in ${s.url}`).toBe(s.values.length);
      expect(new Set(sources.map((s) => s.url)).size, `${e.name}: a source listed twice`).toBe(sources.length);
      const sourced = new Set(sources.flatMap((s) => s.values));
      const unverified = (e.unverified ?? []) as string[];
      expect(new Set(unverified).size, `${e.name}: an unverified value listed twice`).toBe(unverified.length);
      expect(
        unverified.filter((u) => sourced.has(u)),
        `${e.name}: both sourced and unverified`,
      ).toEqual([]);
      expect([...sourced, ...unverified].sort(), `${e.name}: sources + unverified`).toEqual(settings(e).sort());
      checked += sourced.size;
    }
    // Most values are checked; what is not is said so, entry by entry.
    expect(checked).toBeGreaterThan(300);
    expect(entries.filter((e) => (e.sources as unknown[]).length > 0).length).toBeGreaterThanOrEqual(130);
  });

  it('covers the categories users ask for, with API base URLs for the proxy', () => {
    const categories = new Set(entries.flatMap((e) => e.categories as string[]));
    for (const c of ['productivity', 'communication', 'crm', 'developer-tools', 'storage', 'finance', 'hr', 'marketing', 'support', 'analytics', 'ai', 'mcp']) {
      expect(categories, c).toContain(c);
    }
    expect(entries.filter((e) => e.auth_type === 'MCP').length).toBeGreaterThanOrEqual(5);
    expect(entries.filter((e) => e.api_base_url).length).toBeGreaterThanOrEqual(100);
  });

  it('has at least 150 uniquely named entries, including the well-known services', () => {
    expect(entries.length).toBeGreaterThanOrEqual(150);
    const names = entries.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(REQUIRED));
  });

  it('uses https for every URL and keeps a docs_url per entry', () => {
    for (const e of entries) {
      const urls = [
        e.docs_url,
        ...Object.entries(e.oauth2 ?? {})
          .filter(([k]) => k.endsWith('_url') || k === 'issuer')
          .map(([, v]) => v),
      ];
      for (const u of urls) expect(new URL(String(u).replace(/\{[a-z_]+\}/g, 'x')).protocol, `${e.name}: ${u}`).toBe('https:');
    }
  });

  it('has well-formed quirk settings', () => {
    const seen = new Set<string>();
    for (const e of entries.filter((x) => x.oauth2)) {
      const o = e.oauth2;
      if (o.scope_separator && o.scope_separator !== ' ') seen.add('separator');
      if (o.authorize_params) seen.add('authorize_params');
      if (o.token_response_format === 'form') seen.add('form');
      if (o.token_response_paths) seen.add('paths');
      if (o.client_auth_method === 'client_secret_basic') seen.add('basic');
      for (const k of Object.keys(o.authorize_params ?? {})) {
        expect(['response_type', 'client_id', 'redirect_uri', 'state', 'scope', 'code_challenge']).not.toContain(k);
      }
      // Every placeholder is a required string field of the entry's connection fields schema.
      const templated = ['authorization_url', 'token_url', 'revocation_url', 'issuer'].flatMap((k) => placeholders(o[k] ?? ''));
      if (templated.length) seen.add('template');
      for (const name of templated) {
        expect(e.connection_fields_schema?.required, `${e.name}: {${name}}`).toContain(name);
        expect(e.connection_fields_schema?.properties?.[name]?.type).toBe('string');
      }
    }
    expect([...seen].sort()).toEqual(['authorize_params', 'basic', 'form', 'paths', 'separator', 'template']);
  });

  it('gives every entry a generated monogram logo and no third-party logo URL', () => {
    const catalog = ProviderCatalog.load();
    for (const e of entries) {
      expect(e.logo_url, e.name).toBeUndefined();
      const logo = catalog.get(e.name).template.logoUrl;
      expect(logo.startsWith('data:image/svg+xml,'), e.name).toBe(true);
      const svg = decodeURIComponent(logo.slice('data:image/svg+xml,'.length));
      // Nothing in it that would fetch: no href, no url(), no http.
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(svg.replace('xmlns="http://www.w3.org/2000/svg"', ''), e.name).not.toMatch(/href|url\(|http:|https:|@import|\/\//i);
    }
    // Deterministic, and different entries mostly get different colours.
    expect(ProviderCatalog.load().get('github').template.logoUrl).toBe(catalog.get('github').template.logoUrl);
    expect(decodeURIComponent(catalog.get('github').template.logoUrl)).toContain('>GI<');
    expect(decodeURIComponent(catalog.get('microsoft-tenant').template.logoUrl)).toContain('>MS<');
    const colours = new Set(entries.map((e) => /fill="(hsl[^"]+)"/.exec(decodeURIComponent(catalog.get(e.name).template.logoUrl))![1]));
    expect(colours.size).toBeGreaterThan(entries.length / 3);
  });

  it('refuses a logo_url in an entry (logos are generated, never fetched from a third party)', () => {
    const validate = new Ajv2020({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
    const copy = structuredClone(doc);
    copy.providers[0]!.logo_url = 'https://www.google.com/s2/favicons?domain=google.com&sz=128';
    expect(validate(copy)).toBe(false);
  });

  it('loads as valid providers (every entry passes the same validation as CreateProvider)', () => {
    const catalog = ProviderCatalog.load();
    expect(catalog.size).toBe(entries.length);
    expect(catalog.get('slack-user').template.oauth2?.tokenResponsePaths?.accessToken).toBe('authed_user.access_token');
    expect(catalog.get('zendesk').template.connectionFieldsSchema?.required).toEqual(['subdomain']);
  });
});
