import { describe, expect, it } from 'vitest';
import { applyCredential } from '../../src/domain/proxy/apply-credential.js';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../../src/domain/proxy/proxy-headers.js';
import { upstreamUrl } from '../../src/domain/proxy/proxy-target.js';
import { ProxyPathInvalidError } from '../../src/domain/proxy/proxy-errors.js';

describe('proxy target URL', () => {
  it('joins the base, the path as sent and the query', () => {
    expect(upstreamUrl('https://api.example.com/v2', '/users/a%20b', 'x=1&y=%2F').href).toBe('https://api.example.com/v2/users/a%20b?x=1&y=%2F');
    expect(upstreamUrl('https://api.example.com/v2/', '', '').href).toBe('https://api.example.com/v2/');
  });
  it('refuses paths that would leave the base', () => {
    for (const path of ['/../admin', '/a/./b', '/%2e%2e/admin', '/a%2Fb', '/a%5cb', '/a\\b', '/a%00', '/x#frag']) {
      expect(() => upstreamUrl('https://api.example.com/v2', path, ''), path).toThrow(ProxyPathInvalidError);
    }
  });
});

describe('proxy headers', () => {
  it("drops the agent's credentials, hop-by-hop, named and forwarding headers", () => {
    const out = upstreamRequestHeaders({
      authorization: 'Bearer nxs_x',
      'x-api-key': 'nxs_y',
      cookie: 'a=b',
      host: 'nexus',
      connection: 'close, x-named',
      'x-named': '1',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      upgrade: 'websocket',
      te: 'trailers',
      trailer: 'x',
      'proxy-authorization': 'x',
      'x-forwarded-for': '1.2.3.4',
      'nexus-anything': 'x',
      accept: 'application/json',
    });
    expect(out).toEqual({ accept: 'application/json' });
  });
  it('drops Set-Cookie, Nexus-Error and any header carrying a secret from responses', () => {
    const out = downstreamResponseHeaders(
      { 'set-cookie': ['a=b'], 'nexus-error': 'X', 'x-echo': 'key=sk_live_123', 'x-ratelimit-remaining': '3', 'transfer-encoding': 'chunked' },
      ['sk_live_123'],
    );
    expect(out).toEqual({ 'x-ratelimit-remaining': '3' });
  });
});

describe('credential application', () => {
  it('signs AWS SigV4 as in the AWS General Reference example (IAM ListUsers)', async () => {
    const signed = await applyCredential(
      {
        type: 'aws_sigv4',
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        sessionToken: '',
        region: 'us-east-1',
        service: 'iam',
        extra: {},
      },
      'GET',
      new URL('https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08'),
      { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      undefined,
      new Date('2015-08-30T12:36:00Z'),
    );
    expect(signed.headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    );
    expect(signed.secrets).toContain('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
  });
  it("places a header API key with its prefix, replacing the agent's", async () => {
    const signed = await applyCredential(
      { type: 'api_key', apiKey: 'k1', placement: { location: 'header', name: 'X-Key', prefix: 'Token ', field: 'api_key' }, extra: {} },
      'GET',
      new URL('https://a.example/'),
      { 'x-key': 'forged' },
      undefined,
    );
    expect(signed.headers).toEqual({ 'x-key': 'Token k1' });
  });
});
