import { UrlNotAllowedError } from '../shared/errors.js';
import { placeholders } from '../oauth/url-template.js';
import type { SafeFetch } from '../outbound/safe-fetch.js';
import type { ProviderInput } from '../providers/provider-input.js';

export type CheckStatus = 'ok' | 'changed' | 'unreachable' | 'skipped';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** What was checked, what no longer matches, or why the entry was skipped. */
  details: string[];
}

/** What the check reads of an entry: its name and its provider settings. */
export interface CheckedEntry {
  name: string;
  input: ProviderInput;
}

/** Discovery document members compared with the entry's settings. */
const DISCOVERED: [member: string, setting: 'authorizationUrl' | 'tokenUrl' | 'revocationUrl', label: string][] = [
  ['authorization_endpoint', 'authorizationUrl', 'authorization_url'],
  ['token_endpoint', 'tokenUrl', 'token_url'],
  ['revocation_endpoint', 'revocationUrl', 'revocation_url'],
];

/**
 * `nexus catalog check`: compares catalog entries with what the services
 * publish now. An entry with an issuer is compared member by member with
 * its discovery document (RFC 8414 / OpenID Connect Discovery); an entry
 * with fixed endpoints has its authorization endpoint fetched (GET) and
 * its token endpoint probed (a POST without credentials, which a live
 * endpoint refuses with 400 or 401): a 404 or 410 means the endpoint
 * moved. An MCP entry has its server URL fetched. Templated entries (the
 * URL needs a tenant) and static-credential entries are skipped.
 *
 * Every request goes through the SSRF-safe fetch (https, public
 * addresses, NEXUS_OUTBOUND_ALLOWED_HOSTS), carries no credential and
 * reads no body beyond a discovery document; at most `concurrency`
 * entries are checked at once.
 */
export async function checkCatalog(entries: readonly CheckedEntry[], fetch: SafeFetch, concurrency = 4): Promise<CheckResult[]> {
  const results: CheckResult[] = new Array(entries.length);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      results[i] = await checkEntry(entries[i]!, fetch);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, entries.length)) }, worker));
  return results;
}

async function checkEntry(entry: CheckedEntry, fetch: SafeFetch): Promise<CheckResult> {
  const result = (status: CheckStatus, details: string[]): CheckResult => ({ name: entry.name, status, details });
  const { input } = entry;
  try {
    if (input.authType === 'MCP' && input.mcp) {
      const problem = await probe(fetch, input.mcp.serverUrl, 'GET');
      return problem ? result('changed', [`mcp.server_url ${problem}`]) : result('ok', ['mcp.server_url answers']);
    }
    const o = input.oauth2;
    if (input.authType !== 'OAUTH2' || !o) return result('skipped', [`${input.authType ?? 'static'} credentials: no endpoint to check`]);
    const templated = [o.authorizationUrl, o.tokenUrl, o.revocationUrl, o.issuer].flatMap((u) => placeholders(u ?? ''));
    if (templated.length) return result('skipped', [`URLs depend on connection fields (${[...new Set(templated)].join(', ')})`]);
    if (o.issuer) return await compareDiscovery(entry, fetch);
    const details: string[] = [];
    const authorize = await probe(fetch, o.authorizationUrl, 'GET');
    if (authorize) details.push(`authorization_url ${authorize}`);
    const token = await probe(fetch, o.tokenUrl, 'POST');
    if (token) details.push(`token_url ${token}`);
    return details.length ? result('changed', details) : result('ok', ['authorization_url and token_url answer']);
  } catch (err) {
    return result('unreachable', [reason(err)]);
  }
}

async function compareDiscovery(entry: CheckedEntry, fetch: SafeFetch): Promise<CheckResult> {
  const o = entry.input.oauth2!;
  const issuer = o.issuer.replace(/\/$/, '');
  let metadata: Record<string, unknown> | undefined;
  let tried = '';
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    const res = await fetch(`${issuer}${path}`, { headers: { accept: 'application/json' } });
    tried = `${path} answered ${res.status}`;
    if (!res.ok) continue;
    const body: unknown = await res.json().catch(() => undefined);
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      metadata = body as Record<string, unknown>;
      break;
    }
    tried = `${path} is not a JSON object`;
  }
  if (!metadata) return { name: entry.name, status: 'changed', details: [`no discovery document at the issuer (${tried})`] };
  const details: string[] = [];
  if (typeof metadata.issuer === 'string' && metadata.issuer.replace(/\/$/, '') !== issuer) {
    details.push(`issuer is now ${quote(metadata.issuer)} (catalog: ${o.issuer})`);
  }
  for (const [member, setting, label] of DISCOVERED) {
    const published = metadata[member];
    const written = o[setting];
    if (!written) continue;
    if (typeof published !== 'string') details.push(`${label}: the discovery document has no ${member}`);
    else if (published !== written) details.push(`${label} is now ${quote(published)} (catalog: ${written})`);
  }
  return details.length ? { name: entry.name, status: 'changed', details } : { name: entry.name, status: 'ok', details: ['matches the discovery document'] };
}

/** Undefined when the endpoint answers (any status but 404/410; a 5xx throws, as unreachable); otherwise what is wrong. */
async function probe(fetch: SafeFetch, url: string, method: 'GET' | 'POST'): Promise<string | undefined> {
  const init: RequestInit =
    method === 'POST'
      ? { method, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: 'grant_type=authorization_code' }
      : { method, headers: { accept: 'text/html,application/json' } };
  const res = await fetch.head(url, init);
  if (res.status === 404 || res.status === 410) return `answers ${res.status}: moved or removed`;
  if (res.status >= 500) throw new Error(`${new URL(url).host} answers ${res.status}`);
  return undefined;
}

function reason(err: unknown): string {
  if (err instanceof UrlNotAllowedError) return `not fetched: ${err.message}`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return `not reachable: ${cause?.code ?? cause?.message ?? (err as Error).message ?? String(err)}`;
}

/** A published value, shortened and stripped of control characters before it reaches a terminal. */
function quote(value: string): string {
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/** The report printed by the CLI: one line per entry, then a summary. */
export function describeCheck(results: CheckResult[]): string {
  const lines = results.map((r) => `${r.status.padEnd(11)} ${r.name}: ${r.details.join('; ')}`);
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  lines.push(`${count('ok')} ok, ${count('changed')} changed, ${count('unreachable')} unreachable, ${count('skipped')} skipped`);
  return lines.join('\n');
}
