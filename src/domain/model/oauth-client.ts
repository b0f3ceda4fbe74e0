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
