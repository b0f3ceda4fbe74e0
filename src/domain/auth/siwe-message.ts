import { SiweMessageInvalidError } from './auth-errors.js';

/** The fields of an EIP-4361 (Sign-In with Ethereum) message. */
export interface SiweMessage {
  scheme?: string;
  /** RFC 3986 authority: host[:port]. */
  domain: string;
  /** As written in the message (checksum checked by the verifier). */
  address: string;
  statement?: string;
  uri: string;
  version: '1';
  chainId: number;
  nonce: string;
  issuedAt: Date;
  expirationTime?: Date;
  notBefore?: Date;
  requestId?: string;
  resources: string[];
}

// RFC 3986 character classes, as the EIP-4361 ABNF uses them.
const UNRESERVED = 'A-Za-z0-9\\-._~';
const SUB_DELIMS = "!$&'()*+,;=";
const GEN_DELIMS = ':/?#\\[\\]@';
const PCT = '%[0-9A-Fa-f]{2}';
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const AUTHORITY = new RegExp(`^(?:[${UNRESERVED}${SUB_DELIMS}:@\\[\\]]|${PCT})+$`);
const URI = new RegExp(`^[A-Za-z][A-Za-z0-9+.-]*:(?:[${UNRESERVED}${GEN_DELIMS}${SUB_DELIMS}]|${PCT})*$`);
/** statement = *( reserved / unreserved / " " ): one line, no "%" and no control characters. */
const STATEMENT = new RegExp(`^[${UNRESERVED}${GEN_DELIMS}${SUB_DELIMS} ]*$`);
const REQUEST_ID = new RegExp(`^(?:[${UNRESERVED}${SUB_DELIMS}:@]|${PCT})*$`);
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const NONCE = /^[A-Za-z0-9]{8,}$/;
const CHAIN_ID = /^[0-9]+$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;
const HEADER = / wants you to sign in with your Ethereum account:$/;

/**
 * A strict parser of the EIP-4361 ABNF: every line in its place and order,
 * LF line ends, no unknown or repeated fields, no trailing text. Where the
 * EIP's ABNF and its reference implementation differ (a message without a
 * statement has one empty line after the address in the reference
 * implementation and two in the ABNF), both forms are accepted.
 */
export function parseSiweMessage(text: string): SiweMessage {
  const lines = text.split('\n');
  let i = 0;
  const next = (): string | undefined => lines[i++];

  const header = next() ?? '';
  if (!HEADER.test(header)) throw invalid('the first line must be "<domain> wants you to sign in with your Ethereum account:"');
  let origin = header.replace(HEADER, '');
  let scheme: string | undefined;
  const sep = origin.indexOf('://');
  if (sep >= 0) {
    scheme = origin.slice(0, sep);
    origin = origin.slice(sep + 3);
    if (!SCHEME.test(scheme)) throw invalid('the scheme is malformed', 'scheme');
  }
  if (!AUTHORITY.test(origin)) throw invalid('the domain is not an RFC 3986 authority', 'domain');

  const address = next() ?? '';
  if (!ADDRESS.test(address)) throw invalid('the address must be 0x and 40 hex digits', 'address');
  if (next() !== '') throw invalid('an empty line must follow the address');

  let statement: string | undefined;
  if (lines[i] === '') {
    i++; // the ABNF's form without a statement
  } else if (!lines[i]?.startsWith('URI: ')) {
    statement = next()!;
    if (!STATEMENT.test(statement)) throw invalid('the statement has characters EIP-4361 does not allow', 'statement');
    if (next() !== '') throw invalid('an empty line must follow the statement');
  }

  const field = (name: string): string => {
    const line = lines[i];
    if (line === undefined || !line.startsWith(`${name}: `)) throw invalid(`"${name}: " is missing or out of order`);
    i++;
    return line.slice(name.length + 2);
  };
  const optional = (name: string): string | undefined => (lines[i]?.startsWith(`${name}: `) ? field(name) : undefined);

  const uri = field('URI');
  checkUri(uri, 'uri');
  if (field('Version') !== '1') throw invalid('the version must be 1', 'version');
  const chain = field('Chain ID');
  const chainId = Number(chain);
  if (!CHAIN_ID.test(chain) || !Number.isSafeInteger(chainId)) throw invalid('the chain id is malformed', 'chain_id');
  const nonce = field('Nonce');
  if (!NONCE.test(nonce)) throw invalid('the nonce must be at least 8 letters or digits', 'nonce');
  const issuedAt = dateTime(field('Issued At'), 'issuedAt');
  const expiration = optional('Expiration Time');
  const notBefore = optional('Not Before');
  const requestId = optional('Request ID');
  if (requestId !== undefined && !REQUEST_ID.test(requestId)) throw invalid('the request id is malformed', 'requestId');

  const resources: string[] = [];
  if (lines[i] === 'Resources:') {
    i++;
    while (i < lines.length && lines[i]!.startsWith('- ')) {
      const resource = next()!.slice(2);
      checkUri(resource, 'resources');
      resources.push(resource);
    }
  }
  if (i < lines.length) throw invalid(`unexpected text on line ${i + 1}`);

  return {
    ...(scheme !== undefined ? { scheme } : {}),
    domain: origin,
    address,
    ...(statement !== undefined ? { statement } : {}),
    uri,
    version: '1',
    chainId,
    nonce,
    issuedAt,
    ...(expiration !== undefined ? { expirationTime: dateTime(expiration, 'expirationTime') } : {}),
    ...(notBefore !== undefined ? { notBefore: dateTime(notBefore, 'notBefore') } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
    resources,
  };
}

function invalid(problem: string, field?: string): SiweMessageInvalidError {
  return new SiweMessageInvalidError(problem, field);
}

function checkUri(value: string, field: string): void {
  if (!URI.test(value) || !URL.canParse(value)) throw invalid(`${field === 'uri' ? 'the URI' : 'a resource'} is not an RFC 3986 URI`, field);
}

/** RFC 3339 date-time, with the calendar checked (no February 30th). */
function dateTime(value: string, field: string): Date {
  const m = DATE_TIME.exec(value);
  if (!m) throw invalid(`${field} is not an RFC 3339 time`, field);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const day = new Date(Date.UTC(y, mo - 1, d));
  const offsetOk = m[9] === undefined || (Number(m[9]) < 24 && Number(m[10]) < 60);
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d || h > 23 || mi > 59 || s > 60 || !offsetOk) {
    throw invalid(`${field} is not an RFC 3339 time`, field);
  }
  const date = new Date(value.replace(/:60(?=[.Zz+-])/, ':59'));
  if (Number.isNaN(date.getTime())) throw invalid(`${field} is not an RFC 3339 time`, field);
  return date;
}
