import { describe, expect, it } from 'vitest';
import { createSiweMessage } from 'viem/siwe';
import { parseSiweMessage } from '../../../src/domain/auth/siwe-message.js';

/** EIP-4361's own example message (eips.ethereum.org/EIPS/eip-4361, "Example message"). */
const EIP_EXAMPLE = `example.com wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

I accept the ExampleOrg Terms of Service: https://example.com/tos

URI: https://example.com/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json`;

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { reason?: string }).reason ?? String(err);
  }
  return 'no error';
}

const FULL = [
  'service.org wants you to sign in with your Ethereum account:',
  '0xe5A12547fe4E872D192E3eCecb76F2Ce1aeA4946',
  '',
  'I accept the ServiceOrg Terms of Service: https://service.org/tos',
  '',
  'URI: https://service.org/login',
  'Version: 1',
  'Chain ID: 1',
  'Nonce: 12341234',
  'Issued At: 2022-03-17T12:45:13.610Z',
  'Expiration Time: 2023-03-17T12:45:13.610Z',
  'Not Before: 2022-03-17T12:45:13.610Z',
  'Request ID: some_id',
  'Resources:',
  '- https://service.org/login',
];
const without = (i: number) => FULL.filter((_, j) => j !== i).join('\n');
const swap = (i: number, j: number) => {
  const lines = [...FULL];
  [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  return lines.join('\n');
};
const replace = (i: number, line: string) => FULL.map((l, j) => (j === i ? line : l)).join('\n');

describe('EIP-4361 message parser (strict ABNF)', () => {
  it("parses the EIP's example message", () => {
    expect(parseSiweMessage(EIP_EXAMPLE)).toEqual({
      domain: 'example.com',
      address: '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2',
      statement: 'I accept the ExampleOrg Terms of Service: https://example.com/tos',
      uri: 'https://example.com/login',
      version: '1',
      chainId: 1,
      nonce: '32891756',
      issuedAt: new Date('2021-09-30T16:25:24Z'),
      resources: ['ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/', 'https://example.com/my-web2-claim.json'],
    });
  });

  it('parses every optional field, a scheme and a port', () => {
    const parsed = parseSiweMessage(FULL.join('\n').replace('service.org wants', 'https://service.org:8443 wants'));
    expect(parsed).toMatchObject({
      scheme: 'https',
      domain: 'service.org:8443',
      expirationTime: new Date('2023-03-17T12:45:13.610Z'),
      notBefore: new Date('2022-03-17T12:45:13.610Z'),
      requestId: 'some_id',
      resources: ['https://service.org/login'],
    });
  });

  it('reads what an independent implementation (viem) writes, with and without a statement', () => {
    const base = {
      address: '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2' as const,
      chainId: 8453,
      domain: 'localhost:3000',
      uri: 'http://localhost:3000/x?y=1#z',
      nonce: 'abcdEFGH1234',
      version: '1' as const,
      issuedAt: new Date('2026-01-02T03:04:05.678Z'),
    };
    for (const extra of [
      {},
      { statement: 'Sign in to Nexus' },
      { requestId: 'r-1', resources: ['urn:x:y', 'https://a.b/c'], expirationTime: new Date('2027-01-01T00:00:00Z') },
    ]) {
      const parsed = parseSiweMessage(createSiweMessage({ ...base, ...extra }));
      expect(parsed).toMatchObject({ ...base, ...extra, resources: (extra as { resources?: string[] }).resources ?? [] });
    }
  });

  it("accepts the ABNF's form without a statement (two empty lines)", () => {
    const text = FULL.filter((_, j) => j !== 3 && j !== 4)
      .join('\n')
      .replace('\n\nURI', '\n\n\nURI');
    expect(parseSiweMessage(text).statement).toBeUndefined();
  });

  // Negative vectors from the SIWE reference implementation's test suite
  // (github.com/spruceid/siwe, test/parsing_negative.json), rebuilt on FULL.
  const negative: Record<string, string> = {
    'missing domain': replace(0, ' wants you to sign in with your Ethereum account:'),
    'missing address': replace(1, ''),
    'short address': replace(1, '0xe5A12547fe4E872D192E3eCecb76F2Ce1aeA494'),
    'extra line breaks': FULL.join('\n').replace('\n\nI accept', '\n\n\nI accept'),
    'statement has a line break': replace(3, 'I accept the ServiceOrg Terms of Service: \nhttps://service.org/tos'),
    'statement with a control character': replace(3, 'I accept\tthis'),
    'missing uri': without(5),
    'missing version': without(6),
    'missing chainId': without(7),
    'missing nonce': without(8),
    'missing issuedAt': without(9),
    'out of order uri': swap(5, 6),
    'out of order chainId': swap(7, 8),
    'out of order issuedAt': swap(9, 10),
    'out of order notBefore': swap(11, 12),
    'out of order resources': swap(12, 13),
    'repeated field': FULL.join('\n').replace('Version: 1\n', 'Version: 1\nVersion: 1\n'),
    'wrong version': replace(6, 'Version: 2'),
    'not a valid chainId': replace(7, 'Chain ID: ?'),
    'chain id beyond a safe integer': replace(7, 'Chain ID: 9007199254740993'),
    'nonce with less than 8 chars': replace(8, 'Nonce: 1234567'),
    'nonce with a symbol': replace(8, 'Nonce: 1234-5678'),
    'non-ISO 8601 issuedAt': replace(9, 'Issued At: Wed Oct 05 2011 16:48:00 GMT+0200 (CEST)'),
    'issuedAt without offset': replace(9, 'Issued At: 2022-03-17T12:45:13'),
    'impossible date': replace(9, 'Issued At: 2022-02-30T12:45:13Z'),
    'non-ISO 8601 expirationTime': replace(10, 'Expiration Time: tomorrow'),
    'non-ISO 8601 notBefore': replace(11, 'Not Before: 2022-13-17T12:45:13Z'),
    'uri is non-RFC 3986': replace(5, 'URI: _not_a_rfc3986_valid_uri_'),
    'uri with a space': replace(5, 'URI: https://service.org/log in'),
    'resources not separated by line break': replace(14, '- https://service.org/login - https://service.org/login/2'),
    'resource not RFC 3986': `${FULL.join('\n')}\n- _not_a_rfc3986_valid_uri_`,
    'trailing line': `${FULL.join('\n')}\n`,
    'CRLF line ends': FULL.join('\r\n'),
    'unknown field': FULL.join('\n').replace('Resources:', 'Colour: blue\nResources:'),
    'domain with a space': replace(0, 'service org wants you to sign in with your Ethereum account:'),
  };
  for (const [name, text] of Object.entries(negative)) {
    it(`refuses: ${name}`, () => {
      expect(reason(() => parseSiweMessage(text))).toBe('SIWE_MESSAGE_INVALID');
    });
  }
});
