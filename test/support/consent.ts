import type { TestAuthServer } from './oauth-server.js';
import { RETURN_URL, type Clients } from './test-app.js';

export interface CallbackResult {
  status: number;
  location: string | null;
  body: string;
}

/** Opens Nexus's callback URL without following its redirect; returns where it sends the user. */
export async function callback(url: string): Promise<CallbackResult> {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

/** CreateConnection, the user's consent at the authorization server, and the callback on Nexus. */
export async function connectViaConsent(auth: TestAuthServer, api: Clients, workspaceId: string, providerName = 'local-oauth') {
  const created = await api.connections.createConnection({
    workspaceId,
    provider: { case: 'providerName', value: providerName },
    returnUrl: RETURN_URL,
  });
  const callbackUrl = await auth.consent(created.authUrl);
  return { created, callbackUrl, result: await callback(callbackUrl) };
}
