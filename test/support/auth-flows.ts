import { ClientType } from '../../gen/ts/nexus/v1/client_pb.js';
import { newWallet, signIn, type SiweOverrides } from './siwe.js';
import { ADMIN_KEY, authClients } from './test-app.js';
import type { PrivateKeyAccount } from 'viem/accounts';

export const REDIRECT = 'https://app.example.com/back';

export interface TestClient {
  id: string;
  secret: string;
  /** `Authorization: Basic` header value (confidential clients). */
  basic: string;
}

/** Registers an OAuth client through the admin API. */
export async function registerClient(baseUrl: string, type: ClientType, extra: { handoffIpBinding?: number; adminKey?: string } = {}): Promise<TestClient> {
  const admin = authClients(baseUrl, extra.adminKey ?? ADMIN_KEY);
  const res = await admin.clients.createClient({
    client: {
      type,
      displayName: 'Acme App',
      redirectUris: [REDIRECT],
      branding: { logoUrl: 'https://app.example.com/logo.png', accentColor: '#1a2b3c' },
      ...(extra.handoffIpBinding ? { handoffIpBinding: extra.handoffIpBinding } : {}),
    },
  });
  const id = res.client!.id;
  return { id, secret: res.clientSecret, basic: `Basic ${Buffer.from(`${id}:${res.clientSecret}`).toString('base64')}` };
}

/** GetNonce + a signed SIWE message for the wallet. */
export async function siweFor(baseUrl: string, clientId: string, wallet: PrivateKeyAccount, overrides: SiweOverrides = {}) {
  const { nonce } = await authClients(baseUrl).auth.getNonce({ clientId });
  return { nonce, ...(await signIn(wallet, baseUrl, nonce, overrides)) };
}

/** A confidential client's user signed in with response_type token. */
export async function signInUser(baseUrl: string, client: TestClient, scopes: string[] = [], wallet = newWallet()) {
  const siwe = await siweFor(baseUrl, client.id, wallet);
  const res = await authClients(baseUrl).auth.authenticate(
    { message: siwe.message, signature: siwe.signature, scopes },
    { headers: { authorization: client.basic } },
  );
  return { wallet, ...res };
}
