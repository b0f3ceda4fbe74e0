import { privateKeyToAccount, generatePrivateKey, type PrivateKeyAccount } from 'viem/accounts';
import { createSiweMessage, type CreateSiweMessageParameters } from 'viem/siwe';

/** A wallet (viem local account) that signs real EIP-4361 messages. */
export function newWallet(): PrivateKeyAccount {
  return privateKeyToAccount(generatePrivateKey());
}

export interface SiweOverrides extends Partial<Omit<CreateSiweMessageParameters, 'address'>> {}

/** A SIWE message for `baseUrl`'s origin (the default a client without siwe_origins accepts), signed by the wallet. */
export async function signIn(
  wallet: PrivateKeyAccount,
  baseUrl: string,
  nonce: string,
  overrides: SiweOverrides = {},
): Promise<{ message: string; signature: string }> {
  const url = new URL(baseUrl);
  const message = createSiweMessage({
    address: wallet.address,
    chainId: 1,
    domain: url.host,
    uri: `${url.origin}/login`,
    nonce,
    version: '1',
    issuedAt: new Date(),
    statement: 'Sign in to Nexus',
    ...overrides,
  });
  return { message, signature: await wallet.signMessage({ message }) };
}
