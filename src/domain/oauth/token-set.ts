/** What Nexus keeps of a token response, sealed as one JSON value. */
export interface TokenSet {
  accessToken: string;
  tokenType: string;
  refreshToken?: string | undefined;
  /** Epoch milliseconds; absent when the provider gave no expires_in. */
  expiresAt?: number | undefined;
  /** Scopes the provider granted, when it said. */
  scopes?: string[] | undefined;
  idToken?: string | undefined;
}
