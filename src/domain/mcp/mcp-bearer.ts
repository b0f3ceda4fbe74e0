import { InvalidFieldError } from '../shared/errors.js';

/** The sealed credentials of an MCP connection made with a bearer token the user already had. */
export interface McpBearerCredential {
  mcpBearerToken: string;
}

export function isMcpBearer(value: unknown): value is McpBearerCredential {
  return typeof (value as McpBearerCredential | null)?.mcpBearerToken === 'string';
}

/** RFC 6750's b64token is narrower; any visible ASCII without spaces is accepted, as servers vary. Never echoed. */
export function checkMcpBearerToken(token: string): string {
  if (token.length > 8192) throw new InvalidFieldError('mcp_bearer_token', 'must be at most 8 KiB');
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new InvalidFieldError('mcp_bearer_token', 'must be visible ASCII characters without spaces (the token alone, without "Bearer ")');
  }
  return token;
}
