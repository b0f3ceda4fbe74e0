import type { ApiKeyConfig } from './provider.js';

/** What GetToken hands out, one shape per strategy. Never a refresh token. */
export type IssuedCredential =
  | { type: 'oauth2'; accessToken: string; tokenType: string; scopes: string[]; expiresAt: Date | undefined }
  | { type: 'api_key'; apiKey: string; placement: ApiKeyConfig; extra: Record<string, unknown> }
  | { type: 'basic_auth'; username: string; password: string; extra: Record<string, unknown> }
  | {
      type: 'aws_sigv4';
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken: string;
      region: string;
      service: string;
      extra: Record<string, unknown>;
    }
  | { type: 'bearer'; token: string; extra: Record<string, unknown> };
