import type { BrandingValue, HandoffIpBindingName, OAuthClientRow, OAuthClientType } from '../model/oauth-client.js';
import { echo, InvalidFieldError } from '../shared/errors.js';

export interface ClientInput {
  type: OAuthClientType | undefined;
  displayName: string;
  redirectUris: string[];
  branding: BrandingValue;
  siweOrigins: string[];
  siweChainIds: number[];
  handoffIpBinding: HandoffIpBindingName | undefined;
}

export type ValidatedClient = Pick<OAuthClientRow, 'displayName' | 'redirectUris' | 'branding' | 'siweOrigins' | 'siweChainIds' | 'handoffIpBinding'>;

const COLOR = /^#[0-9a-fA-F]{6}$/;
// Schemes that run code or read local files are never a place to send a user.
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:']);

/** Checks the mutable fields of a client; `allowInsecure` admits http URLs off localhost (development). */
export function validateClient(input: ClientInput, allowInsecure: boolean): ValidatedClient {
  const displayName = input.displayName.trim();
  if (!displayName) throw new InvalidFieldError('client.display_name', 'is required');
  if (displayName.length > 200) throw new InvalidFieldError('client.display_name', 'must be at most 200 characters');
  if (input.redirectUris.length > 50) throw new InvalidFieldError('client.redirect_uris', 'at most 50');
  for (const uri of input.redirectUris) redirectUri(uri, allowInsecure);
  const branding = validateBranding('client.branding', input.branding, allowInsecure);
  if (input.siweOrigins.length > 20) throw new InvalidFieldError('client.siwe_origins', 'at most 20');
  const siweOrigins = input.siweOrigins.map((o) => validateOrigin('client.siwe_origins', o, allowInsecure));
  for (const id of input.siweChainIds) {
    if (!Number.isSafeInteger(id) || id <= 0) throw new InvalidFieldError('client.siwe_chain_ids', 'must be positive integers');
  }
  return {
    displayName,
    redirectUris: [...new Set(input.redirectUris)],
    branding,
    siweOrigins,
    siweChainIds: [...new Set(input.siweChainIds)],
    handoffIpBinding: input.handoffIpBinding ?? 'STRICT',
  };
}

/** Branding for the Manage Connections web app (a client's, or a project's default); `field` prefixes the error paths. */
export function validateBranding(field: string, b: BrandingValue, allowInsecure: boolean): BrandingValue {
  const branding: BrandingValue = {};
  if (b.displayName) {
    if (b.displayName.length > 200) throw new InvalidFieldError(`${field}.display_name`, 'must be at most 200 characters');
    branding.displayName = b.displayName;
  }
  if (b.logoUrl) {
    webUrl(`${field}.logo_url`, b.logoUrl, allowInsecure);
    branding.logoUrl = b.logoUrl;
  }
  if (b.accentColor) {
    if (!COLOR.test(b.accentColor)) throw new InvalidFieldError(`${field}.accent_color`, 'must be #rrggbb');
    branding.accentColor = b.accentColor.toLowerCase();
  }
  return branding;
}

/** An origin: scheme, host and port, nothing else (`https://app.example.com`). */
export function validateOrigin(field: string, value: string, allowInsecure: boolean): string {
  const url = webUrl(field, value, allowInsecure);
  if (url.origin !== value.replace(/\/$/, '')) throw new InvalidFieldError(field, `"${echo(value)}" must be an origin (scheme, host, port)`);
  return url.origin;
}

/** Absolute, no fragment (RFC 6749 3.1.2); custom schemes are allowed for mobile apps. */
function redirectUri(value: string, allowInsecure: boolean): void {
  const field = 'client.redirect_uris';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidFieldError(field, `"${echo(value)}" must be an absolute URI`);
  }
  if (value.length > 2048) throw new InvalidFieldError(field, 'must be at most 2048 characters');
  if (url.hash) throw new InvalidFieldError(field, 'must not have a fragment');
  if (FORBIDDEN_SCHEMES.has(url.protocol)) throw new InvalidFieldError(field, `scheme ${echo(url.protocol)} is not allowed`);
  if (url.protocol === 'http:' && !allowInsecure && !isLoopback(url.hostname)) {
    throw new InvalidFieldError(field, 'http is only allowed for localhost');
  }
}

function webUrl(field: string, value: string, allowInsecure: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidFieldError(field, `"${echo(value)}" must be an absolute URL`);
  }
  if (value.length > 2048) throw new InvalidFieldError(field, 'must be at most 2048 characters');
  const ok = url.protocol === 'https:' || (url.protocol === 'http:' && (allowInsecure || isLoopback(url.hostname)));
  if (!ok) throw new InvalidFieldError(field, 'must be https (http only for localhost)');
  return url;
}

/** localhost, 127.0.0.1 or [::1] (a URL's hostname). */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
}
