import { describe, expect, it } from 'vitest';
import { internalAddressReason, isIpLiteral } from '../../../../src/domain/outbound/address-policy.js';

describe('internal address classifier', () => {
  it.each([
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'metadata'],
    ['169.254.10.1', 'link-local'],
    ['100.64.1.1', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['0.0.0.0', 'unspecified'],
    ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'unique-local'],
    ['fd00:ec2::254', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:10.0.0.1', 'IPv4-mapped'],
    ['::ffff:8.8.8.8', 'IPv4-mapped'],
    ['64:ff9b::a00:1', 'NAT64'],
    ['2002:a00:1::', '6to4'],
    ['2001:db8::1', 'reserved'],
  ])('refuses %s (%s)', (address, name) => {
    expect(internalAddressReason(address)).toContain(name);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700::1111', '[2a00:1450:4001::200e]'])('accepts public %s', (address) => {
    expect(internalAddressReason(address)).toBeUndefined();
  });

  it('treats non-addresses as not public and tells IP literals from names', () => {
    expect(internalAddressReason('example.com')).toBe('not an IP address');
    expect(isIpLiteral('example.com')).toBe(false);
    expect(isIpLiteral('10.0.0.1')).toBe(true);
    expect(isIpLiteral('[fe80::1]')).toBe(true);
  });
});
