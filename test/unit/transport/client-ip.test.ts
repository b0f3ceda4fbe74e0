import { describe, expect, it } from 'vitest';
import { ClientIpResolver, parseHop, UNKNOWN_CLIENT_IP } from '../../../src/transport/client-ip.js';

describe('client IP resolution', () => {
  it('ignores X-Forwarded-For without trusted proxies', () => {
    expect(new ClientIpResolver([]).resolve('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(new ClientIpResolver(['10.0.0.0/8']).resolve('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9');
  });

  it('takes the rightmost untrusted hop behind trusted proxies, so a spoofed left part is ignored', () => {
    const r = new ClientIpResolver(['10.0.0.0/8', '127.0.0.1']);
    expect(r.resolve('::ffff:127.0.0.1', '198.51.100.1')).toBe('198.51.100.1');
    expect(r.resolve('10.1.2.3', '6.6.6.6, 198.51.100.1, 10.0.0.5')).toBe('198.51.100.1');
  });

  it('maps IPv4-mapped IPv6 peers to IPv4, and refuses a malformed setting', () => {
    expect(new ClientIpResolver([]).resolve('::ffff:192.0.2.1', undefined)).toBe('192.0.2.1');
    expect(() => new ClientIpResolver(['not-an-ip'])).toThrow(/NEXUS_TRUSTED_PROXIES/);
  });
});

describe('X-Forwarded-For hops as proxies write them', () => {
  const r = new ClientIpResolver(['10.0.0.0/8', '127.0.0.1']);

  it('reads ip:port and [v6]:port hops, so the proxy-written hop beats a spoofed left value', () => {
    expect(r.resolve('10.0.0.1', '6.6.6.6, 198.51.100.7:51234')).toBe('198.51.100.7');
    expect(r.resolve('10.0.0.1', '6.6.6.6, [2001:db8::7]:443')).toBe('2001:db8::7');
    expect(r.resolve('10.0.0.1', '6.6.6.6, [2001:db8::8]')).toBe('2001:db8::8');
    expect(r.resolve('10.0.0.1', '6.6.6.6, [::ffff:198.51.100.9]:80, 10.0.0.2:8080')).toBe('198.51.100.9');
  });

  it('fails closed on a hop it cannot parse: the client is unknown, not the spoofable value left of it', () => {
    for (const bad of ['unknown', '_hidden', '198.51.100.7:99999', '[2001:db8::1', '1.2.3.4:', '', 'host.example:80', '[1.2.3.4]:80']) {
      expect(r.resolve('10.0.0.1', `6.6.6.6, ${bad}`), bad).toBe(UNKNOWN_CLIENT_IP);
    }
    // An unparsable hop left of the client (written by the client itself) does not matter.
    expect(r.resolve('10.0.0.1', 'garbage, 198.51.100.7')).toBe('198.51.100.7');
  });

  it('parses single hops', () => {
    expect(parseHop(' 192.0.2.1 ')).toBe('192.0.2.1');
    expect(parseHop('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(parseHop('192.0.2.1:0')).toBe('192.0.2.1');
    expect(parseHop('999.0.0.1:80')).toBeUndefined();
  });
});
