import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

// --- AWS Signature Version 4, verified from the spec (not with any AWS signer) --------------
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html

const sha256hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Returns null when the request carries a valid SigV4 signature for these credentials, else the problem. */
export function verifySigV4(
  req: IncomingMessage,
  body: Buffer,
  creds: { access_key_id: string; secret_access_key: string; session_token?: string; region: string; service: string },
): string | null {
  const h = req.headers;
  const m = /^AWS4-HMAC-SHA256 Credential=([^/,]+)\/(\d{8})\/([^/,]+)\/([^/,]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
    h.authorization ?? '',
  );
  if (!m) return `malformed Authorization: ${h.authorization ?? '(none)'}`;
  const [, keyId, date, region, service, signedHeaderList, signature] = m as unknown as string[];
  if (keyId !== creds.access_key_id) return 'wrong access key id';
  if (region !== creds.region || service !== creds.service) return `wrong scope ${region}/${service}`;
  const amzDate = String(h['x-amz-date'] ?? '');
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(date!)) return 'bad X-Amz-Date';
  const when = Date.UTC(
    +amzDate.slice(0, 4),
    +amzDate.slice(4, 6) - 1,
    +amzDate.slice(6, 8),
    +amzDate.slice(9, 11),
    +amzDate.slice(11, 13),
    +amzDate.slice(13, 15),
  );
  if (Math.abs(Date.now() - when) > 5 * 60_000) return 'X-Amz-Date too far from now';
  const signed = signedHeaderList!.split(';');
  for (const required of ['host', 'x-amz-date']) if (!signed.includes(required)) return `${required} not signed`;
  if (creds.session_token) {
    if (h['x-amz-security-token'] !== creds.session_token) return 'wrong X-Amz-Security-Token';
    if (!signed.includes('x-amz-security-token')) return 'x-amz-security-token not signed';
  }
  const payloadHash = sha256hex(body);
  const declared = h['x-amz-content-sha256'];
  if (declared !== undefined && declared !== payloadHash && declared !== 'UNSIGNED-PAYLOAD') return 'X-Amz-Content-SHA256 does not match the body';

  const url = new URL(req.url!, 'http://x');
  const canonicalUri =
    url.pathname
      .split('/')
      .map((seg) => rfc3986(decodeURIComponent(seg)))
      .join('/') || '/';
  const rawQuery = req.url!.includes('?') ? req.url!.slice(req.url!.indexOf('?') + 1) : '';
  const canonicalQuery = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf('=');
      const [k, v] = i < 0 ? [pair, ''] : [pair.slice(0, i), pair.slice(i + 1)];
      return [rfc3986(decodeURIComponent(k)), rfc3986(decodeURIComponent(v))] as const;
    })
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signed
    .map((name) => {
      const value = h[name];
      if (value === undefined) throw new Error(`signed header ${name} not received`);
      return `${name}:${(Array.isArray(value) ? value.join(',') : value).trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const canonicalRequest = [
    req.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeaderList,
    declared === 'UNSIGNED-PAYLOAD' ? declared : payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${creds.secret_access_key}`, date!);
  const kSigning = hmac(hmac(hmac(kDate, region!), service!), 'aws4_request');
  const expected = createHmac('sha256', kSigning).update(stringToSign).digest('hex');
  return expected === signature ? null : `signature mismatch (canonical request:\n${canonicalRequest})`;
}
