import type { BrandingValue } from './oauth-client.js';

/** A project's own settings; empty lists fall back to the installation's (configuration). */
export interface ProjectSettings {
  /** Return URLs CreateConnection accepts (prefix rules, as NEXUS_ALLOWED_RETURN_URLS); empty: the global list. */
  allowedReturnUrls: string[];
  /** Browser origins allowed to call the API (added to NEXUS_CORS_ORIGINS: see SECURITY.md). */
  corsOrigins: string[];
  /** The Manage Connections web app's branding when a client sets none. */
  branding: BrandingValue;
}

/** A tenant. Every other row carries its project id. */
export interface ProjectRow extends ProjectSettings {
  id: string;
  /** A unique, immutable slug. */
  name: string;
  displayName: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The project every fresh installation starts with, and the one public calls default to. */
export const DEFAULT_PROJECT_ID = 'prj_default';
