import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { UrlNotAllowedError } from '../shared/errors.js';
import { internalAddressReason, isIpLiteral } from './address-policy.js';

/** Resolves a host name to all its addresses (node:dns lookup with all: true). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));

export interface OutboundPolicyOptions {
  /** NODE_ENV=production: https only, even for allow-listed hosts. */
  production: boolean;
  /**
   * NEXUS_OUTBOUND_ALLOWED_HOSTS: trusted internal hosts, each `host:port`
   * (or `[v6]:port`). Empty by default. A host on it may resolve to an
   * internal address and, outside production, may be reached over http.
   */
  allowedHosts: string[];
  resolver?: Resolver;
}

/**
 * Which URLs Nexus may fetch on behalf of an admin-supplied catalog entry
 * (an MCP server, its metadata, its authorization server). The rules:
 * - https only; http only for an allow-listed host and never in production;
 * - no credentials in the URL;
 * - the host (an IP literal, or every address its name resolves to) must be
 *   public unicast, unless `host:port` is on the allow-list.
 * checkUrl() is the static half; the address half runs again at connect
 * time on the address actually used (see safe-fetch.ts), so a DNS answer
 * that changes between check and connect cannot slip an internal address in.
 */
export class OutboundPolicy {
  private readonly allowed: Set<string>;
  private readonly resolver: Resolver;

  constructor(private readonly options: OutboundPolicyOptions) {
    this.allowed = new Set(options.allowedHosts.map(normalizeEntry));
    this.resolver = options.resolver ?? systemResolver;
  }

  get production(): boolean {
    return this.options.production;
  }

  /** Protocol, credentials, allow-list and IP-literal checks; no DNS. Returns the parsed URL. */
  checkUrl(value: string, field: string): URL {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new UrlNotAllowedError(field, 'is not an absolute URL');
    }
    if (value.length > 2048) throw new UrlNotAllowedError(field, 'is longer than 2048 characters');
    if (url.username || url.password) throw new UrlNotAllowedError(field, 'must not carry credentials');
    const trusted = this.isAllowListed(url);
    if (url.protocol !== 'https:') {
      if (url.protocol !== 'http:') throw new UrlNotAllowedError(field, 'must be an https URL');
      if (this.options.production) throw new UrlNotAllowedError(field, 'must be https (NODE_ENV=production)');
      if (!trusted) throw new UrlNotAllowedError(field, 'must be https (http only for hosts on NEXUS_OUTBOUND_ALLOWED_HOSTS)');
    }
    if (!trusted && isIpLiteral(url.hostname)) {
      const reason = internalAddressReason(url.hostname);
      if (reason) throw new UrlNotAllowedError(field, `points at ${reason}`);
    }
    return url;
  }

  /**
   * checkUrl plus DNS: every address the host resolves to must be public.
   * A name that does not resolve now is let through (it is checked again
   * at connect time); a name that resolves to an internal address is not.
   */
  async checkUrlResolved(value: string, field: string): Promise<URL> {
    const url = this.checkUrl(value, field);
    if (this.isAllowListed(url) || isIpLiteral(url.hostname)) return url;
    let addresses: LookupAddress[];
    try {
      addresses = await this.resolver(url.hostname);
    } catch {
      return url;
    }
    for (const a of addresses) {
      const reason = internalAddressReason(a.address);
      if (reason) throw new UrlNotAllowedError(field, `resolves to ${reason}`);
    }
    return url;
  }

  /**
   * For the connect-time check: whether this exact host and port (the port
   * the socket connects to) is on the allow-list, and so may resolve to an
   * internal address. An entry names one port: `host:8443` does not admit
   * the same host's other ports.
   */
  trustsEndpoint(hostname: string, port: string | number, protocol: string): boolean {
    return this.allowed.has(endpointKey(hostname, port, protocol));
  }

  get resolve(): Resolver {
    return this.resolver;
  }

  private isAllowListed(url: URL): boolean {
    return this.trustsEndpoint(url.hostname, url.port, url.protocol);
  }
}

function endpointKey(hostname: string, port: string | number, protocol: string): string {
  const host = hostname.toLowerCase();
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${bracketed}:${Number(port) || (protocol === 'https:' ? 443 : 80)}`;
}

/** `host:port` lowercased (IPv6 in brackets); a bad entry is a configuration error. */
export function normalizeEntry(entry: string): string {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i.exec(entry.trim());
  if (!m || Number(m[2]) > 65535) {
    throw new Error(`NEXUS_OUTBOUND_ALLOWED_HOSTS entry "${entry}" must be host:port, for example 127.0.0.1:8443`);
  }
  return `${m[1]!.toLowerCase()}:${Number(m[2])}`;
}
