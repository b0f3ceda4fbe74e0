import { describe, expect, it } from 'vitest';
import { clientCredentials, MalformedClientCredentials } from '../../../src/domain/auth/client-credentials.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('client credentials (RFC 6749 2.3.1)', () => {
  it('reads HTTP Basic, form-url-decoding id and secret', () => {
    expect(clientCredentials(basic('cli_1', 'a%3Ab+c'), '', '')).toEqual({ clientId: 'cli_1', clientSecret: 'a:b c' });
  });

  it('falls back to the body, and ignores Bearer headers', () => {
    expect(clientCredentials(null, 'cli_1', 's')).toEqual({ clientId: 'cli_1', clientSecret: 's' });
    expect(clientCredentials('Bearer xyz', 'cli_1', '')).toEqual({ clientId: 'cli_1', clientSecret: '' });
  });

  it('refuses Basic without a colon, and Basic that disagrees with the body', () => {
    const noColon = `Basic ${Buffer.from('justid').toString('base64')}`;
    expect(() => clientCredentials(noColon, '', '')).toThrow(MalformedClientCredentials);
    expect(() => clientCredentials(basic('cli_1', 's'), 'cli_2', '')).toThrow(MalformedClientCredentials);
    expect(() => clientCredentials(basic('cli_1', 's'), '', 'other')).toThrow(MalformedClientCredentials);
    expect(clientCredentials(basic('cli_1', 's'), 'cli_1', 's')).toEqual({ clientId: 'cli_1', clientSecret: 's' });
  });
});
