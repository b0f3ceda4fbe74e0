import ipaddr from 'ipaddr.js';

/**
 * Why an IP address is not a public unicast address, or undefined when it
 * is. Only ipaddr.js's `unicast` range is public: private (RFC 1918),
 * loopback, link-local (including the 169.254.169.254 metadata service),
 * CGNAT (100.64/10), multicast, broadcast, unspecified, reserved and
 * documentation ranges, IPv6 unique-local, and every IPv6 form that embeds
 * an IPv4 address (mapped, NAT64, 6to4, Teredo) are refused.
 */
export function internalAddressReason(address: string): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(stripBrackets(address));
  } catch {
    return 'not an IP address';
  }
  if (parsed.kind() === 'ipv4' && parsed.toString() === '169.254.169.254') return 'the cloud metadata address';
  const range = parsed.range();
  if (range === 'unicast') return undefined;
  if (range === 'ipv4Mapped') return `an IPv4-mapped address (${range})`;
  return `a ${RANGE_NAMES[range] ?? range} address`;
}

export function isIpLiteral(host: string): boolean {
  return ipaddr.isValid(stripBrackets(host));
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

const RANGE_NAMES: Record<string, string> = {
  private: 'private',
  loopback: 'loopback',
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  multicast: 'multicast',
  broadcast: 'broadcast',
  unspecified: 'unspecified',
  reserved: 'reserved',
  uniqueLocal: 'unique-local',
  rfc6052: 'NAT64',
  '6to4': '6to4',
  teredo: 'Teredo',
  benchmarking: 'benchmarking',
};
