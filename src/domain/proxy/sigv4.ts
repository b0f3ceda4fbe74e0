import { createHash, createHmac } from 'node:crypto';
import type { IssuedCredential } from '../model/issued-credential.js';

type AwsCredential = Extract<IssuedCredential, { type: 'aws_sigv4' }>;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * AWS Signature Version 4 (header form), per the AWS General Reference:
 * canonical request, string to sign, derived key. Lazily loaded by
 * applyCredential. The path is used as sent (already encoded once, as S3
 * expects; other services get the same single encoding). A streamed body is
 * signed as UNSIGNED-PAYLOAD (accepted by S3); a buffered one is hashed.
 */
export function signSigV4(
  credential: AwsCredential,
  method: string,
  url: URL,
  headers: Record<string, string | string[]>,
  body: { buffered: Buffer } | { streamed: true } | undefined,
  now: Date,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (!k.startsWith('x-amz-')) out[k] = v;
  const amzDate = now.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = body && 'streamed' in body ? 'UNSIGNED-PAYLOAD' : sha256(body?.buffered ?? '');
  out.host = url.host;
  out['x-amz-date'] = amzDate;
  // S3 requires the payload hash header (and alone accepts UNSIGNED-PAYLOAD); other services hash the body in the canonical request only.
  if (credential.service === 's3' || payloadHash === 'UNSIGNED-PAYLOAD') out['x-amz-content-sha256'] = payloadHash;
  if (credential.sessionToken) out['x-amz-security-token'] = credential.sessionToken;
  const signedNames = Object.keys(out)
    .map((k) => k.toLowerCase())
    .sort();
  const canonicalHeaders = signedNames
    .map((name) => {
      const v = out[name]!;
      return `${name}:${(Array.isArray(v) ? v.join(',') : v).trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const signedHeaders = signedNames.join(';');
  const canonical = [method, url.pathname || '/', query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${credential.region}/${credential.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credential.secretAccessKey}`, day), credential.region), credential.service), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  out.authorization = `AWS4-HMAC-SHA256 Credential=${credential.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  // undici sets Host itself from the URL; the signed value is the same.
  delete out.host;
  return out;
}
