import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hashMessage, decodeFunctionData, parseAbi, getAddress } from 'viem';
import { createSiweMessage } from 'viem/siwe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak_256 } from '@noble/hashes/sha3';
import { eip191Hash, SiweVerifier, toChecksumAddress, type SiwePolicy } from '../../../src/domain/auth/siwe.js';
import { OutboundPolicy } from '../../../src/domain/outbound/outbound-policy.js';
import { createSafeFetch } from '../../../src/domain/outbound/safe-fetch.js';
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

describe('SIWE verification (EOA signatures; viem signs as an independent implementation)', () => {
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

  it("refuses a tampered signature, a tampered message, and another wallet's signature", async () => {
    const { message, signature } = await signIn(wallet, BASE, 'abcdef0123456789', times);
    const flipped = signature.slice(0, 10) + (signature[10] === 'a' ? 'b' : 'a') + signature.slice(11);
    expect(await reason(verifier.verify(message, flipped, POLICY, NOW))).toBe('SIWE_SIGNATURE_INVALID');
    expect(await reason(verifier.verify(message.replace('abcdef0123456789', 'abcdef0123456780'), signature, POLICY, NOW))).toBe('SIWE_SIGNATURE_INVALID');
    const other = await newWallet().signMessage({ message });
    expect(await reason(verifier.verify(message, other, POLICY, NOW))).toBe('SIWE_SIGNATURE_INVALID');
    expect(await reason(verifier.verify(message, 'not-hex', POLICY, NOW))).toBe('SIWE_SIGNATURE_INVALID');
  });

  it('refuses text that is not an EIP-4361 message', async () => {
    expect(await reason(verifier.verify('hello world', '0x00', POLICY, NOW))).toBe('SIWE_MESSAGE_INVALID');
    expect(await reason(verifier.verify('x'.repeat(5000), '0x00', POLICY, NOW))).toBe('SIWE_MESSAGE_INVALID');
  });
});

/** secp256k1's group order: s and n - s both verify; only the low one is accepted. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function malleate(signature: string): string {
  const r = signature.slice(2, 66);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = parseInt(signature.slice(130), 16);
  return `0x${r}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}`;
}

describe('SIWE verification: published vectors and malleability', () => {
  const verifier = new SiweVerifier(undefined);

  it('EIP-191: hashes like the published vector and like viem, for ASCII and multi-byte messages', async () => {
    expect(Buffer.from(await eip191Hash('hello world')).toString('hex')).toBe('d9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68');
    for (const m of ['', 'héllo wörld ✓', 'x'.repeat(300)]) {
      expect(`0x${Buffer.from(await eip191Hash(m)).toString('hex')}`).toBe(hashMessage(m));
    }
  });

  it("EIP-55: the EIP's checksum vectors", () => {
    for (const a of [
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
      '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
      '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
      '0x52908400098527886E0F7030069857D2E4169EE7',
      '0xde709f2102306220921060314715629080e2fb77',
    ]) {
      expect(toChecksumAddress(a.toLowerCase(), keccak_256)).toBe(a);
    }
  });

  // The SIWE reference implementation's vectors (github.com/spruceid/siwe,
  // test/validation_positive.json and verification_negative.json).
  const vector = {
    domain: 'login.xyz',
    address: '0x9D85ca56217D2bb651b00f15e694EB7E713637D4' as const,
    statement: 'Sign-In With Ethereum Example Statement',
    uri: 'https://login.xyz',
    version: '1' as const,
    nonce: 'bTyXgcQxn2htgkjJn',
    issuedAt: new Date('2022-01-27T17:09:38.578Z'),
    chainId: 1,
    expirationTime: new Date('2100-01-07T14:31:43.952Z'),
  };
  const vectorSignature =
    '0xdc35c7f8ba2720df052e0092556456127f00f7707eaa8e3bbff7e56774e7f2e05a093cfc9e02964c33d86e8e066e221b7d153d27e5a2e97ccd5ca7d3f2ce06cb1b';
  const loginXyz: SiwePolicy = { origins: ['https://login.xyz'], chainIds: [1] };
  const at = new Date('2022-01-28T00:00:00Z');

  it("accepts the reference implementation's signed example", async () => {
    const result = await verifier.verify(createSiweMessage(vector), vectorSignature, loginXyz, at);
    expect(result).toEqual({ address: vector.address, nonce: vector.nonce, chainId: 1 });
  });

  it('refuses its negative vectors: domain binding, custom time, wrong and malformed signatures', async () => {
    const message = createSiweMessage(vector);
    expect(await reason(verifier.verify(message, vectorSignature, { ...loginXyz, origins: ['https://example.com'] }, at))).toBe('SIWE_DOMAIN_MISMATCH');
    expect(await reason(verifier.verify(message, vectorSignature, loginXyz, new Date('2200-01-05T00:00:00Z')))).toBe('SIWE_EXPIRED');
    const other = {
      ...vector,
      address: '0x6Da01670d8fc844e736095918bbE11fE8D564163' as const,
      nonce: 'rmplqh1gf',
      issuedAt: new Date('2022-01-05T14:31:43.954Z'),
    };
    const wrong = '0x31df81dc02344c9156e6f71da46e2db624b38f8f806290d670d46492b834b2e7575cbce9f48169356cfb577b910d8e30732fcf23c1ac0021d08b945ed7ee118e1b';
    const malformed = '0xf2e8420fc1b722bf4941f5a0464f98172a758ceda5039f622e425fb69fd19b20e444bba7c9a8a8d7e2b5e453553efe7c9460be5d211abe473fc146d51bb04d0cb1b';
    expect(await reason(verifier.verify(createSiweMessage(other), wrong, loginXyz, at))).toBe('SIWE_SIGNATURE_INVALID');
    expect(await reason(verifier.verify(createSiweMessage(other), malformed, loginXyz, at))).toBe('SIWE_SIGNATURE_INVALID');
  });

  it('refuses the high-s twin of a valid signature, accepts v as 0/1', async () => {
    const wallet = newWallet();
    const { message, signature } = await signIn(wallet, BASE, 'abcdef0123456789', { issuedAt: NOW });
    expect(await reason(verifier.verify(message, malleate(signature), POLICY, NOW))).toBe('SIWE_SIGNATURE_INVALID');
    const v01 = signature.slice(0, 130) + (parseInt(signature.slice(130), 16) - 27).toString(16).padStart(2, '0');
    expect((await verifier.verify(message, v01, POLICY, NOW)).address).toBe(wallet.address);
    for (const bad of [`${signature.slice(0, 130)}1d`, signature.slice(0, 128), `0x${'00'.repeat(65)}`, `0x${'ff'.repeat(65)}`, `${signature}00`]) {
      expect(await reason(verifier.verify(message, bad, POLICY, NOW))).toBe('SIWE_SIGNATURE_INVALID');
    }
  });

  it('refuses an address that is not EIP-55 checksummed, even with a valid signature', async () => {
    const wallet = newWallet();
    const { message } = await signIn(wallet, BASE, 'abcdef0123456789', { issuedAt: NOW });
    const lower = message.replace(wallet.address, wallet.address.toLowerCase());
    expect(await reason(verifier.verify(lower, await wallet.signMessage({ message: lower }), POLICY, NOW))).toBe('SIWE_MESSAGE_INVALID');
  });

  it("refuses a scheme other than the allowed origin's", async () => {
    const wallet = newWallet();
    const { message } = await signIn(wallet, BASE, 'abcdef0123456789', { issuedAt: NOW, scheme: 'http' });
    expect(await reason(verifier.verify(message, await wallet.signMessage({ message }), POLICY, NOW))).toBe('SIWE_DOMAIN_MISMATCH');
    const https = await signIn(wallet, BASE, 'abcdef0123456789', { issuedAt: NOW, scheme: 'https' });
    await expect(verifier.verify(https.message, https.signature, POLICY, NOW)).resolves.toBeTruthy();
  });
});

describe('SIWE verification: ERC-1271 contract wallets over JSON-RPC (real HTTP, loopback)', () => {
  const abi = parseAbi(['function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)']);
  const contract = getAddress('0x1111111111111111111111111111111111111111');
  const goodSignature = `0x${'ab'.repeat(70)}`; // not an ECDSA signature: only the contract can say it is valid
  let server: Server;
  let url: string;
  let mode: 'ok' | 'revert' | 'down' = 'ok';
  const calls: unknown[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const call = JSON.parse(body) as { id: number; method: string; params: [{ to: string; data: `0x${string}` }, string] };
        calls.push(call);
        if (mode === 'down') return void res.writeHead(502).end();
        const { args } = decodeFunctionData({ abi, data: call.params[0].data });
        const valid = mode === 'ok' && getAddress(call.params[0].to) === contract && args[1] === goodSignature;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify(
            mode === 'revert'
              ? { jsonrpc: '2.0', id: call.id, error: { code: 3, message: 'execution reverted' } }
              : { jsonrpc: '2.0', id: call.id, result: valid ? `0x1626ba7e${'0'.repeat(56)}` : `0xffffffff${'0'.repeat(56)}` },
          ),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const verifierFor = (rpcUrl: string) => {
    const host = new URL(rpcUrl).host;
    const policy = new OutboundPolicy({ production: false, allowedHosts: [host] });
    return new SiweVerifier({ url: rpcUrl, fetch: createSafeFetch(policy, { timeoutMs: 2_000, maxRedirects: 0 }) });
  };
  const contractMessage = () =>
    createSiweMessage({
      address: contract,
      chainId: 1,
      domain: 'app.example.com',
      uri: `${BASE}/login`,
      nonce: 'abcdef0123456789',
      version: '1',
      issuedAt: NOW,
    });

  it('accepts what the contract says is valid: isValidSignature(EIP-191 hash, signature), ABI-encoded', async () => {
    mode = 'ok';
    const message = contractMessage();
    const result = await verifierFor(url).verify(message, goodSignature, POLICY, NOW);
    expect(result.address).toBe(contract);
    const last = calls.at(-1) as { method: string; params: [{ data: `0x${string}` }, string] };
    expect(last.method).toBe('eth_call');
    expect(last.params[1]).toBe('latest');
    expect(decodeFunctionData({ abi, data: last.params[0].data }).args[0]).toBe(hashMessage(message));
  });

  it('refuses what it does not, and a revert', async () => {
    mode = 'ok';
    expect(await reason(verifierFor(url).verify(contractMessage(), `0x${'cd'.repeat(70)}`, POLICY, NOW))).toBe('SIWE_SIGNATURE_INVALID');
    mode = 'revert';
    expect(await reason(verifierFor(url).verify(contractMessage(), goodSignature, POLICY, NOW))).toBe('SIWE_SIGNATURE_INVALID');
  });

  it("answers SERVICE_UNAVAILABLE when the RPC fails, and never asks it about an EOA's own signature", async () => {
    mode = 'down';
    expect(await reason(verifierFor(url).verify(contractMessage(), goodSignature, POLICY, NOW))).toBe('SERVICE_UNAVAILABLE');
    const before = calls.length;
    const wallet = newWallet();
    const { message, signature } = await signIn(wallet, BASE, 'abcdef0123456789', { issuedAt: NOW });
    expect((await verifierFor(url).verify(message, signature, POLICY, NOW)).address).toBe(wallet.address);
    expect(calls.length).toBe(before);
  });

  it('refuses an RPC URL the outbound policy refuses (internal address not on the allow-list)', async () => {
    const strict = new SiweVerifier({ url, fetch: createSafeFetch(new OutboundPolicy({ production: false, allowedHosts: [] }), { timeoutMs: 2_000 }) });
    mode = 'ok';
    expect(await reason(strict.verify(contractMessage(), goodSignature, POLICY, NOW))).toBe('SERVICE_UNAVAILABLE');
  });
});
