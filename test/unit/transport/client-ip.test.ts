import { describe, expect, it } from 'vitest';
import { ClientIpResolver } from '../../../src/transport/client-ip.js';

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
