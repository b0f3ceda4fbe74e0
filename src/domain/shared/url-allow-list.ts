import { InvalidFieldError, ReturnUrlNotAllowedError } from './errors.js';

/**
 * An allow-list of URLs: for `return_url` (NEXUS_ALLOWED_RETURN_URLS) and
 * for browser origins (NEXUS_CORS_ORIGINS). An entry is an exact origin
 * (`https://app.example.com`), an origin with a path prefix
 * (`https://app.example.com/oauth/`), and the port may be `*`
 * (`http://localhost:*`). Matching is on parsed URLs, never on strings, so
 * `https://app.example.com.evil.io` or `https://user@app.example.com` do not
 * slip through.
 */
interface Entry {
  protocol: string;
  hostname: string;
  /** undefined = any port. */
  port: string | undefined;
  pathPrefix: string;
}

export class UrlAllowList {
  private readonly entries: Entry[];

  constructor(patterns: string[]) {
    this.entries = patterns.map(parseEntry);
  }

  static parseList(spec: string): UrlAllowList {
    return new UrlAllowList(
      spec
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  }

  /** Whether `value` (a URL or an origin) is on the list; never throws. */
  allows(value: string): boolean {
    try {
      this.check(value);
      return true;
    } catch {
      return false;
    }
  }

  /** Throws unless `value` is an absolute http(s) URL on the allow-list. */
  check(value: string): URL {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InvalidFieldError('return_url', 'must be an absolute URL');
    }
    if (value.length > 2048) throw new InvalidFieldError('return_url', 'must be at most 2048 characters');
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InvalidFieldError('return_url', 'must be http or https');
    }
    if (url.username || url.password) throw new ReturnUrlNotAllowedError();
    if (!this.entries.some((e) => matches(e, url))) throw new ReturnUrlNotAllowedError();
    return url;
  }
}

function parseEntry(pattern: string): Entry {
  const wildcardPort = /^(https?:\/\/[^/:]+):\*(\/.*)?$/.exec(pattern);
  const url = new URL(wildcardPort ? `${wildcardPort[1]}${wildcardPort[2] ?? ''}` : pattern);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`NEXUS_ALLOWED_RETURN_URLS entry "${pattern}" must be http or https`);
  }
  return {
    protocol: url.protocol,
    hostname: url.hostname,
    port: wildcardPort ? undefined : url.port,
    pathPrefix: url.pathname,
  };
}

function matches(entry: Entry, url: URL): boolean {
  if (url.protocol !== entry.protocol || url.hostname !== entry.hostname) return false;
  if (entry.port !== undefined && url.port !== entry.port) return false;
  if (entry.pathPrefix === '/' || entry.pathPrefix === '') return true;
  // A prefix without a trailing slash still matches only whole segments.
  const prefix = entry.pathPrefix.endsWith('/') ? entry.pathPrefix : `${entry.pathPrefix}/`;
  return url.pathname === entry.pathPrefix || url.pathname.startsWith(prefix);
}
