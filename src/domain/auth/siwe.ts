import type { Hex, PublicClient } from 'viem';
import { ServiceUnavailableError } from '../errors.js';
import {
  SiweChainMismatchError,
  SiweDomainMismatchError,
  SiweExpiredError,
  SiweMessageInvalidError,
  SiweSignatureInvalidError,
} from './auth-errors.js';

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

/** Clocks differ between a wallet and this server; issued-at may be this far in the future. */
const CLOCK_SKEW_MS = 60_000;
const MAX_MESSAGE_LENGTH = 4_096;

/**
 * Verifies an EIP-4361 message with viem: parses it, checks domain, URI,
 * chain and times against the policy, and verifies the signature. EOA
 * signatures are checked offline (ecrecover). With an RPC URL, signatures of
 * smart-contract wallets (ERC-1271, and ERC-6492 for undeployed ones) are
 * checked on that chain. The nonce is returned for the caller to consume.
 */
export class SiweVerifier {
  private rpc: PublicClient | undefined;

  constructor(
    private readonly rpcUrl: string | undefined,
    private readonly timeoutMs = 10_000,
  ) {}

  async verify(message: string, signature: string, policy: SiwePolicy, now: Date): Promise<VerifiedSiwe> {
    if (message.length > MAX_MESSAGE_LENGTH) throw new SiweMessageInvalidError(`must be at most ${MAX_MESSAGE_LENGTH} characters`);
    const { getAddress, isAddress, isHex, parseSiweMessage } = await loadViem();
    const fields = parseSiweMessage(message);
    if (!fields.domain || !fields.address || !fields.uri || fields.version !== '1' || !fields.nonce || fields.chainId === undefined) {
      throw new SiweMessageInvalidError('not an EIP-4361 message (domain, address, URI, version 1, chain id and nonce are required)');
    }
    if (!isAddress(fields.address, { strict: false })) throw new SiweMessageInvalidError('address is malformed', 'address');
    if (!Number.isSafeInteger(fields.chainId)) throw new SiweMessageInvalidError('chain id is malformed', 'chain_id');
    for (const key of ['issuedAt', 'expirationTime', 'notBefore'] as const) {
      const value = fields[key];
      if (value !== undefined && Number.isNaN(value.getTime())) throw new SiweMessageInvalidError(`${key} is not an RFC 3339 time`, key);
    }
    if (!fields.issuedAt) throw new SiweMessageInvalidError('issued-at is required', 'issuedAt');

    checkOrigin(fields.domain, fields.uri, policy.origins);
    if (!policy.chainIds.includes(fields.chainId)) throw new SiweChainMismatchError();
    const t = now.getTime();
    if (fields.expirationTime && fields.expirationTime.getTime() <= t) throw new SiweExpiredError('has expired');
    if (fields.notBefore && fields.notBefore.getTime() > t) throw new SiweExpiredError('is not valid yet (not-before)');
    if (fields.issuedAt.getTime() > t + CLOCK_SKEW_MS) throw new SiweExpiredError('is issued in the future');

    if (!isHex(signature) || signature.length < 4) throw new SiweSignatureInvalidError();
    const address = getAddress(fields.address);
    if (!(await this.signatureValid(address, message, signature))) throw new SiweSignatureInvalidError();
    return { address, nonce: fields.nonce, chainId: fields.chainId };
  }

  private async signatureValid(address: Hex, message: string, signature: Hex): Promise<boolean> {
    const { createPublicClient, http, verifyMessage, verifySiweMessage } = await loadViem();
    if (this.rpcUrl && !this.rpc) {
      this.rpc = createPublicClient({ transport: http(this.rpcUrl, { timeout: this.timeoutMs, retryCount: 0 }) });
    }
    if (!this.rpc) {
      try {
        return await verifyMessage({ address, message, signature });
      } catch {
        return false;
      }
    }
    try {
      // Times, domain and nonce are checked above; this checks the signature
      // for EOAs and contract wallets alike.
      return await verifySiweMessage(this.rpc, { message, signature, address });
    } catch (err) {
      if ((err as { name?: string }).name?.includes('Http') || (err as { name?: string }).name?.includes('Timeout')) {
        throw new ServiceUnavailableError('the chain RPC used to verify wallet signatures is unavailable; retry later');
      }
      return false;
    }
  }
}

/**
 * viem is the largest module the server uses (about a third of its load
 * time): it is loaded by the first sign-in, not at start.
 */
let viem: Promise<typeof import('viem') & typeof import('viem/siwe')> | undefined;
function loadViem() {
  viem ??= Promise.all([import('viem'), import('viem/siwe')]).then(([core, siwe]) => ({ ...core, ...siwe }));
  return viem;
}

function checkOrigin(domain: string, uri: string, origins: string[]): void {
  const allowed = origins.map((o) => new URL(o));
  const match = allowed.find((o) => o.host === domain.toLowerCase());
  if (!match) throw new SiweDomainMismatchError('domain');
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw new SiweMessageInvalidError('URI is malformed', 'uri');
  }
  if (parsed.origin !== match.origin) throw new SiweDomainMismatchError('uri');
}
