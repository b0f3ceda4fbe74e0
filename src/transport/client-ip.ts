import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import { BlockList, isIP } from 'node:net';

/** The caller's IP address, set per request by the fastify plugin's contextValues. */
export const clientIpKey = createContextKey<string>('', { description: 'client IP address' });

export function clientIpOf(ctx: HandlerContext): string {
  return ctx.values.get(clientIpKey);
}

/** What `resolve` answers when the client's address cannot be known: it matches no address. */
export const UNKNOWN_CLIENT_IP = '';

/**
 * Resolves the client IP. X-Forwarded-For is honoured only when the direct
 * peer is a trusted proxy (NEXUS_TRUSTED_PROXIES: IPs or CIDRs); then the
 * rightmost address that is not itself a trusted proxy is the client, so a
 * client cannot spoof its address by sending its own X-Forwarded-For.
 *
 * Hops are read as proxies write them: a bare IP, `ip:port` or `[v6]:port`.
 * Walking from the right, a hop that is none of these (`unknown`, an
 * obfuscated name, garbage) stops the walk: the proxy that wrote it knows
 * the client and we do not, and anything left of it was written by the
 * client. The answer is then UNKNOWN_CLIENT_IP (fail closed), never a
 * value further left. Skipping such hops let a spoofed left value win.
 */
export class ClientIpResolver {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  constructor(trustedProxies: string[]) {
    this.any = trustedProxies.length > 0;
    for (const entry of trustedProxies) {
      const [address, bits] = entry.split('/');
      const family = isIP(address ?? '') === 6 ? 'ipv6' : 'ipv4';
      if (!isIP(address ?? '')) throw new Error(`NEXUS_TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR`);
      if (bits === undefined) this.trusted.addAddress(address!, family);
      else this.trusted.addSubnet(address!, Number(bits), family);
    }
  }

  resolve(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    const direct = normalize(peer ?? '');
    if (!this.any || !this.isTrusted(direct) || !forwardedFor) return direct;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map(parseHop);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i];
      if (hop === undefined) return UNKNOWN_CLIENT_IP;
      if (!this.isTrusted(hop)) return hop;
    }
    // Every hop is a trusted proxy: the leftmost is the closest to the client we know.
    return hops[0]!;
  }

  private isTrusted(ip: string): boolean {
    const family = isIP(ip);
    return family !== 0 && this.trusted.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** One X-Forwarded-For hop: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:5678`; undefined otherwise. */
export function parseHop(raw: string): string | undefined {
  const hop = raw.trim();
  if (isIP(hop)) return normalize(hop);
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(hop);
  if (bracketed) return isIP(bracketed[1]!) === 6 && validPort(bracketed[2]) ? normalize(bracketed[1]!) : undefined;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(hop);
  if (v4) return isIP(v4[1]!) === 4 && validPort(v4[2]) ? v4[1]! : undefined;
  return undefined;
}

function validPort(port: string | undefined): boolean {
  return port === undefined || Number(port) <= 65_535;
}

/** `::ffff:1.2.3.4` (IPv4 on a dual-stack socket) is the same client as `1.2.3.4`. */
function normalize(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip;
}
