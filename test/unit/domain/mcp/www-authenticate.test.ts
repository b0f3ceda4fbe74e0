import { describe, expect, it } from 'vitest';
import { bearerChallengeParams } from '../../../../src/domain/mcp/www-authenticate.js';

describe('WWW-Authenticate Bearer challenge parsing', () => {
  it('reads resource_metadata from the SDK-style challenge', () => {
    expect(
      bearerChallengeParams(
        'Bearer error="invalid_token", error_description="Missing Authorization header", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"',
      ),
    ).toEqual({
      error: 'invalid_token',
      error_description: 'Missing Authorization header',
      resource_metadata: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
    });
  });

  it('finds the Bearer challenge among others, unescapes quoted strings and accepts bare URLs', () => {
    expect(bearerChallengeParams('Basic realm="x", Bearer realm="a\\"b", resource_metadata=https://x/y')).toEqual({
      realm: 'a"b',
      resource_metadata: 'https://x/y',
    });
    expect(bearerChallengeParams('DPoP algs="ES256", Bearer scope="a b"')).toEqual({ scope: 'a b' });
    expect(bearerChallengeParams('bearer Resource_Metadata="u"')).toEqual({ resource_metadata: 'u' });
  });

  it('answers undefined or empty, never throws, on missing or malformed headers', () => {
    expect(bearerChallengeParams(null)).toBeUndefined();
    expect(bearerChallengeParams('')).toBeUndefined();
    expect(bearerChallengeParams('Basic realm="x"')).toBeUndefined();
    expect(bearerChallengeParams('Bearer')).toEqual({});
    expect(bearerChallengeParams('Bearer ,,, ="x"')).toEqual({});
    expect(bearerChallengeParams('Bearer resource_metadata="unterminated')).toEqual({ resource_metadata: 'unterminated' });
    expect(bearerChallengeParams(`Bearer x="${'a'.repeat(9000)}"`)).toBeUndefined();
  });
});
