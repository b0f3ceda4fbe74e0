/** One refresh token of a session, stored as its SHA-256. `usedAt` set = rotated away; presenting it again is reuse. */
export interface RefreshTokenRow {
  tokenHash: string;
  sessionId: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}
