import { ServiceUnavailableError } from '../shared/errors.js';
import type { FetchLike } from '../outbound/safe-fetch.js';
import { SiweChainMismatchError, SiweDomainMismatchError, SiweExpiredError, SiweMessageInvalidError, SiweSignatureInvalidError } from './auth-errors.js';
import { parseSiweMessage } from './siwe-message.js';

/** Where a SIWE message may come from: the client's origins and chains. */
export interface SiwePolicy {
  /** Origins such as `https://app.example.com`: the message's domain is one's host[:port], its URI starts with it. */
  origins: string[];
  chainIds: number[];
}

export interface VerifiedSiwe {
  /** EIP-55 checksummed. */
  address: string;
  nonce: string;
  chainId: number;
}

/** NEXUS_SIWE_RPC_URL, reached through the SSRF-safe fetch, for ERC-1271 (smart-contract wallet) signatures. */
export interface SiweRpc {
  url: string;
  fetch: FetchLike;
}

/** Clocks differ between a wallet and this server; issued-at may be this far in the future. */
const CLOCK_SKEW_MS = 60_000;
const MAX_MESSAGE_LENGTH = 4_096;
/** Contract-wallet signatures (ERC-1271) are arbitrary bytes; this bounds what is sent to the RPC. */
const MAX_SIGNATURE_BYTES = 2_048;
/** bytes4(keccak256("isValidSignature(bytes32,bytes)")): the selector, and the magic value a valid signature returns. */
const ERC1271_MAGIC = '1626ba7e';

/**
 * Verifies an EIP-4361 message: parses it strictly (siwe-message.ts),
 * checks domain, URI, chain and times against the policy, the address's
 * EIP-55 checksum, and the signature. EOA signatures are checked offline
 * (EIP-191 hash, secp256k1 recovery, low-s only). With an RPC, a signature
 * that is not the address's own key is asked of the address as an ERC-1271
 * contract wallet (`eth_call` of isValidSignature). The nonce is returned
 * for the caller to consume.
 */
export class SiweVerifier {
  constructor(private readonly rpc: SiweRpc | undefined) {}

  async verify(message: string, signature: string, policy: SiwePolicy, now: Date): Promise<VerifiedSiwe> {
    if (message.length > MAX_MESSAGE_LENGTH) throw new SiweMessageInvalidError(`must be at most ${MAX_MESSAGE_LENGTH} characters`);
    const fields = parseSiweMessage(message);
    const { keccak } = await loadCrypto();
    const address = toChecksumAddress(fields.address, keccak);
    // EIP-4361: the address is EIP-55 checksummed; an all-lower or all-upper one is refused like a wrong checksum.
    if (address !== fields.address) throw new SiweMessageInvalidError('the address is not EIP-55 checksummed', 'address');

    checkOrigin(fields.scheme, fields.domain, fields.uri, policy.origins);
    if (!policy.chainIds.includes(fields.chainId)) throw new SiweChainMismatchError();
    const t = now.getTime();
    if (fields.expirationTime && fields.expirationTime.getTime() <= t) throw new SiweExpiredError('has expired');
    if (fields.notBefore && fields.notBefore.getTime() > t) throw new SiweExpiredError('is not valid yet (not-before)');
    if (fields.issuedAt.getTime() > t + CLOCK_SKEW_MS) throw new SiweExpiredError('is issued in the future');

    const sig = signature.length <= 2 + 2 * MAX_SIGNATURE_BYTES ? hexBytes(signature) : undefined;
    if (!sig || sig.length === 0 || sig.length > MAX_SIGNATURE_BYTES) throw new SiweSignatureInvalidError();
    if (!(await this.signatureValid(address, message, sig))) throw new SiweSignatureInvalidError();
    return { address, nonce: fields.nonce, chainId: fields.chainId };
  }

  private async signatureValid(address: string, message: string, signature: Uint8Array): Promise<boolean> {
    const hash = await eip191Hash(message);
    if ((await recoverAddress(hash, signature)) === address) return true;
    if (!this.rpc) return false;
    return this.erc1271Valid(address, hash, signature);
  }

  /** isValidSignature(bytes32 hash, bytes signature) on the address, at the latest block. */
  private async erc1271Valid(address: string, hash: Uint8Array, signature: Uint8Array): Promise<boolean> {
    const rpc = this.rpc!;
    const padded = Math.ceil(signature.length / 32) * 32;
    const data =
      `0x${ERC1271_MAGIC}` +
      toHex(hash) +
      (64).toString(16).padStart(64, '0') + // offset of the bytes argument
      signature.length.toString(16).padStart(64, '0') +
      toHex(signature).padEnd(padded * 2, '0');
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to: address, data }, 'latest'] });
    let answer: { result?: unknown; error?: unknown };
    try {
      const res = await rpc.fetch(rpc.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      answer = (await res.json()) as typeof answer;
    } catch {
      throw new ServiceUnavailableError('the chain RPC used to verify wallet signatures is unavailable; retry later');
    }
    // A JSON-RPC error here is the call reverting (no such method, not a contract wallet): not a valid signature.
    if (typeof answer?.result !== 'string') {
      if (answer?.error !== undefined) return false;
      throw new ServiceUnavailableError('the chain RPC used to verify wallet signatures gave no result; retry later');
    }
    // The return value is bytes4, ABI-encoded left-aligned in 32 bytes.
    return /^0x1626ba7e0{56}$/i.test(answer.result);
  }
}

/**
 * @noble/curves and @noble/hashes (audited, dependency-free) are loaded by
 * the first sign-in, not at start.
 */
let crypto: Promise<{ keccak: (data: Uint8Array) => Uint8Array; secp256k1: typeof import('@noble/curves/secp256k1').secp256k1 }> | undefined;
function loadCrypto() {
  crypto ??= Promise.all([import('@noble/hashes/sha3'), import('@noble/curves/secp256k1')]).then(([sha3, curves]) => ({
    keccak: sha3.keccak_256,
    secp256k1: curves.secp256k1,
  }));
  return crypto;
}

/** EIP-191 version 0x45: keccak256("\x19Ethereum Signed Message:\n" + byte length + message). */
export async function eip191Hash(message: string): Promise<Uint8Array> {
  const { keccak } = await loadCrypto();
  const bytes = new TextEncoder().encode(message);
  const prefix = new TextEncoder().encode(`\x19Ethereum Signed Message:\n${bytes.length}`);
  const data = new Uint8Array(prefix.length + bytes.length);
  data.set(prefix);
  data.set(bytes, prefix.length);
  return keccak(data);
}

/**
 * The EIP-55 address whose key made a 65-byte (r, s, v) signature of the
 * hash, or undefined. v is 27/28 (or 0/1); s must be in the lower half of
 * the curve order (EIP-2): a high-s signature is the malleated twin of a
 * valid one and is refused, as are r or s out of range.
 */
export async function recoverAddress(hash: Uint8Array, signature: Uint8Array): Promise<string | undefined> {
  if (signature.length !== 65) return undefined;
  const { keccak, secp256k1 } = await loadCrypto();
  const v = signature[64]!;
  const recovery = v === 27 || v === 28 ? v - 27 : v === 0 || v === 1 ? v : -1;
  if (recovery < 0) return undefined;
  try {
    const sig = secp256k1.Signature.fromCompact(signature.subarray(0, 64));
    if (sig.hasHighS()) return undefined;
    const point = sig.addRecoveryBit(recovery).recoverPublicKey(hash);
    const publicKey = point.toRawBytes(false).subarray(1);
    return toChecksumAddress(`0x${toHex(keccak(publicKey).subarray(12))}`, keccak);
  } catch {
    return undefined;
  }
}

/** EIP-55: a hex digit is upper-case when the matching nibble of keccak256(lower-case hex) is >= 8. */
export function toChecksumAddress(address: string, keccak: (data: Uint8Array) => Uint8Array): string {
  const lower = address.slice(2).toLowerCase();
  const hash = toHex(keccak(new TextEncoder().encode(lower)));
  let out = '0x';
  for (let i = 0; i < 40; i++) out += parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  return out;
}

function hexBytes(value: string): Uint8Array | undefined {
  if (!/^0x(?:[0-9a-fA-F]{2})*$/.test(value)) return undefined;
  return Uint8Array.from(Buffer.from(value.slice(2), 'hex'));
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function checkOrigin(scheme: string | undefined, domain: string, uri: string, origins: string[]): void {
  const allowed = origins.map((o) => new URL(o));
  const match = allowed.find((o) => o.host === domain.toLowerCase() && (scheme === undefined || o.protocol === `${scheme.toLowerCase()}:`));
  if (!match) throw new SiweDomainMismatchError('domain');
  if (new URL(uri).origin !== match.origin) throw new SiweDomainMismatchError('uri');
}
