// Hand-written. AWS Signature Version 4 for AWS_SIGV4 connections: the
// "@nexus-broker/client/aws" export. Its dependencies (@smithy/signature-v4,
// @aws-crypto/sha256-js) are optional peer dependencies: install them to sign; bundles
// that never import this file carry none of them.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsSigV4Credentials } from './gen/nexus/v1/token_pb.js';
import type { OutgoingRequest } from './inject.js';

/**
 * Signs `req` in place with `credentials` (region and service from them; a session token is
 * sent as X-Amz-Security-Token). Pass it to nexusFetch or applyCredentials as `awsSigV4`.
 */
export async function awsSigV4(req: OutgoingRequest, credentials: AwsSigV4Credentials): Promise<void> {
  const c = credentials;
  const signer = new SignatureV4({
    service: c.service,
    region: c.region,
    sha256: Sha256,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken || undefined },
  });
  const headers: Record<string, string> = { host: req.url.host };
  req.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of req.url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const signed = await signer.sign({
    method: req.method,
    protocol: req.url.protocol,
    hostname: req.url.hostname,
    port: req.url.port ? Number(req.url.port) : undefined,
    path: req.url.pathname,
    query,
    headers,
    body: req.body,
  });
  for (const [name, value] of Object.entries(signed.headers)) {
    // fetch sets Host itself, to the same value.
    if (name.toLowerCase() !== 'host') req.headers.set(name, value);
  }
}
