import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import { BlockList, isIP } from 'node:net';

/** The caller's IP address, set per request by the fastify plugin's contextValues. */
export const clientIpKey = createContextKey<string>('', { description: 'client IP address' });

export function clientIpOf(ctx: HandlerContext): string {
  return ctx.values.get(clientIpKey);
}

/**
 * Resolves the client IP. X-Forwarded-For is honoured only when the direct
 * peer is a trusted proxy (NEXUS_TRUSTED_PROXIES: IPs or CIDRs); then the
 * rightmost address that is not itself a trusted proxy is the client, so a
 * client cannot spoof its address by sending its own X-Forwarded-For.
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
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
      .split(',')
      .map((s) => normalize(s.trim()))
      .filter((s) => isIP(s));
    for (let i = hops.length - 1; i >= 0; i--) {
      if (!this.isTrusted(hops[i]!)) return hops[i]!;
    }
    return hops[0] ?? direct;
  }

  private isTrusted(ip: string): boolean {
    const family = isIP(ip);
    return family !== 0 && this.trusted.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** `::ffff:1.2.3.4` (IPv4 on a dual-stack socket) is the same client as `1.2.3.4`. */
function normalize(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip;
}
