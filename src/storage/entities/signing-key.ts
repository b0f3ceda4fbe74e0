import { EntitySchema } from 'typeorm';
import type { SigningKeyRow } from '../../domain/model/signing-key.js';

/** The table of the domain model's `SigningKeyRow` (src/domain/model/signing-key.ts). */
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
