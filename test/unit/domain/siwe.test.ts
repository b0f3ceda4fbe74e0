import { describe, expect, it } from 'vitest';
import { SiweVerifier, type SiwePolicy } from '../../../src/domain/auth/siwe.js';
import { newWallet, signIn } from '../../support/siwe.js';

const BASE = 'https://app.example.com';
const POLICY: SiwePolicy = { origins: [BASE], chainIds: [1, 8453] };
const NOW = new Date('2026-06-01T12:00:00Z');

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { reason?: string }).reason ?? String(err);
  }
  return 'no error';
}

describe('SIWE verification (viem, EOA signatures)', () => {
  const verifier = new SiweVerifier(undefined);
  const wallet = newWallet();
  const times = { issuedAt: new Date(NOW.getTime() - 10_000) };

  it('accepts a valid message and returns the EIP-55 address, nonce and chain', async () => {
    const { message, signature } = await signIn(wallet, BASE, 'abcdef0123456789', times);
    const result = await verifier.verify(message, signature, POLICY, NOW);
    expect(result).toEqual({ address: wallet.address, nonce: 'abcdef0123456789', chainId: 1 });
    expect(result.address).toMatch(/[A-F]/); // checksummed, not lower-cased
  });

  it('refuses a domain the client does not allow', async () => {
    const { message, signature } = await signIn(wallet, BASE, 'abcdef0123456789', { ...times, domain: 'evil.example.com' });
    expect(await reason(verifier.verify(message, signature, POLICY, NOW))).toBe('SIWE_DOMAIN_MISMATCH');
  });

  it('refuses a URI on another origin than the domain', async () => {
    const { message, signature } = await signIn(wallet, BASE, 'abcdef0123456789', { ...times, uri: 'https://evil.example.com/login' });
    expect(await reason(verifier.verify(message, signature, POLICY, NOW))).toBe('SIWE_DOMAIN_MISMATCH');
  });

  it('refuses a chain the client does not allow, accepts an allowed one', async () => {
    const bad = await signIn(wallet, BASE, 'abcdef0123456789', { ...times, chainId: 137 });
    expect(await reason(verifier.verify(bad.message, bad.signature, POLICY, NOW))).toBe('SIWE_CHAIN_MISMATCH');
    const good = await signIn(wallet, BASE, 'abcdef0123456789', { ...times, chainId: 8453 });
    expect((await verifier.verify(good.message, good.signature, POLICY, NOW)).chainId).toBe(8453);
  });

  it('refuses an expired message, one not valid yet, and one issued in the future', async () => {
    const expired = await signIn(wallet, BASE, 'abcdef0123456789', { ...times, expirationTime: new Date(NOW.getTime() - 1) });
    expect(await reason(verifier.verify(expired.message, expired.signature, POLICY, NOW))).toBe('SIWE_EXPIRED');
    const early = await signIn(wallet, BASE, 'abcdef0123456789', { ...times, notBefore: new Date(NOW.getTime() + 60_000) });
    expect(await reason(verifier.verify(early.message, early.signature, POLICY, NOW))).toBe('SIWE_EXPIRED');
    const future = await signIn(wallet, BASE, 'abcdef0123456789', { issuedAt: new Date(NOW.getTime() + 5 * 60_000) });
    expect(await reason(verifier.verify(future.message, future.signature, POLICY, NOW))).toBe('SIWE_EXPIRED');
    const fine = await signIn(wallet, BASE, 'abcdef0123456789', { ...times, expirationTime: new Date(NOW.getTime() + 60_000) });
    await expect(verifier.verify(fine.message, fine.signature, POLICY, NOW)).resolves.toBeTruthy();
  });

  it('refuses a tampered signature, a tampered message, and another wallet\'s signature', async () => {
    const { message, signature } = await signIn(wallet, BASE, 'abcdef0123456789', times);
    const flipped = signature.slice(0, 10) + (signature[10] === 'a' ? 'b' : 'a') + signature.slice(11);
    expect(await reason(verifier.verify(message, flipped, POLICY, NOW))).toBe('SIWE_SIGNATURE_INVALID');
    expect(await reason(verifier.verify(message.replace('abcdef0123456789', 'abcdef0123456780'), signature, POLICY, NOW))).toBe(
      'SIWE_SIGNATURE_INVALID',
    );
    const other = await newWallet().signMessage({ message });
    expect(await reason(verifier.verify(message, other, POLICY, NOW))).toBe('SIWE_SIGNATURE_INVALID');
    expect(await reason(verifier.verify(message, 'not-hex', POLICY, NOW))).toBe('SIWE_SIGNATURE_INVALID');
  });

  it('refuses text that is not an EIP-4361 message', async () => {
    expect(await reason(verifier.verify('hello world', '0x00', POLICY, NOW))).toBe('SIWE_MESSAGE_INVALID');
    expect(await reason(verifier.verify('x'.repeat(5000), '0x00', POLICY, NOW))).toBe('SIWE_MESSAGE_INVALID');
  });
});
