/**
 * The web session obtained by redeeming a handoff code. Kept in
 * sessionStorage (this tab only, gone when it closes) so that the OAuth
 * round trip through a provider comes back to a working page. It holds a
 * short-lived access token limited to the handoff's intent, never a refresh
 * token.
 */
export interface WebSession {
  accessToken: string;
  /** Epoch milliseconds; the session is dropped after it. */
  expiresAt: number;
  /** Where the "back to the app" button goes. */
  redirectUri: string;
  /** The signed-in user's workspace (their connections). */
  workspaceId: string;
  /** The project whose providers are listed. */
  projectId: string;
  client: Branding;
}

export interface Branding {
  displayName: string;
  logoUrl: string;
  accentColor: string;
}

const KEY = 'nexus.manage.session';

export function loadSession(now = Date.now()): WebSession | undefined {
  let raw: string | null;
  try {
    raw = sessionStorage.getItem(KEY);
  } catch {
    return undefined;
  }
  if (!raw) return undefined;
  try {
    const session = JSON.parse(raw) as WebSession;
    if (typeof session.accessToken !== 'string' || !(session.expiresAt > now)) {
      clearSession();
      return undefined;
    }
    return session;
  } catch {
    clearSession();
    return undefined;
  }
}

export function saveSession(session: WebSession): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Storage disabled: nothing was kept.
  }
}
