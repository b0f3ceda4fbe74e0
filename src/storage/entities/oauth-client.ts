import { EntitySchema } from 'typeorm';

export type OAuthClientType = 'CONFIDENTIAL' | 'PUBLIC';
export type HandoffIpBindingName = 'STRICT' | 'RELAXED';

export interface BrandingValue {
  displayName?: string;
  logoUrl?: string;
  accentColor?: string;
}

/** An app that signs its users in (AuthService). A confidential client's secret is stored only as a hash. */
export interface OAuthClientRow {
  id: string;
  projectId: string;
  type: OAuthClientType;
  displayName: string;
  secretHash: string | null;
  redirectUris: string[];
  branding: BrandingValue;
  siweOrigins: string[];
  siweChainIds: number[];
  handoffIpBinding: HandoffIpBindingName;
  createdAt: Date;
  updatedAt: Date;
}

export const OAuthClientEntity = new EntitySchema<OAuthClientRow>({
  name: 'OAuthClient',
  tableName: 'oauth_clients',
  columns: {
    id: { type: 'text', primary: true },
    projectId: { name: 'project_id', type: 'text' },
    type: { type: 'text' },
    displayName: { name: 'display_name', type: 'text' },
    secretHash: { name: 'secret_hash', type: 'text', nullable: true },
    redirectUris: { name: 'redirect_uris', type: 'text', array: true },
    branding: { type: 'jsonb' },
    siweOrigins: { name: 'siwe_origins', type: 'text', array: true },
    siweChainIds: { name: 'siwe_chain_ids', type: 'jsonb' },
    handoffIpBinding: { name: 'handoff_ip_binding', type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});
