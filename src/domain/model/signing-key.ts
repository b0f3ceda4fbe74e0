/** A JWT signing key shared by every replica; the private JWK is sealed with the key ring (AAD = key id). */
export interface SigningKeyRow {
  id: string;
  algorithm: string;
  publicJwk: Record<string, unknown>;
  privateKeySealed: string;
  createdAt: Date;
  retiredAt: Date | null;
}
