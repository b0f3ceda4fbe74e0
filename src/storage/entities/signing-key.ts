import { EntitySchema } from 'typeorm';

/** A JWT signing key shared by every replica; the private JWK is sealed with the key ring (AAD = key id). */
export interface SigningKeyRow {
  id: string;
  algorithm: string;
  publicJwk: Record<string, unknown>;
  privateKeySealed: string;
  createdAt: Date;
  retiredAt: Date | null;
}

export const SigningKeyEntity = new EntitySchema<SigningKeyRow>({
  name: 'SigningKey',
  tableName: 'signing_keys',
  columns: {
    id: { type: 'text', primary: true },
    algorithm: { type: 'text' },
    publicJwk: { name: 'public_jwk', type: 'jsonb' },
    privateKeySealed: { name: 'private_key_sealed', type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    retiredAt: { name: 'retired_at', type: 'timestamptz', nullable: true },
  },
});
