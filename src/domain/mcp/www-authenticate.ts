/**
 * The auth-params of the first `Bearer` challenge in a WWW-Authenticate
 * header (RFC 9110 section 11.6.1), lowercased names, quoted-string values
 * unescaped. Other schemes are skipped. undefined when there is no Bearer
 * challenge; never throws. (oauth4webapi parses these too, but only inside
 * its own response processing.)
 */
export function bearerChallengeParams(header: string | null): Record<string, string> | undefined {
  if (!header || header.length > 8192) return undefined;
  // scheme, then auth-params: name=token or name="quoted string", separated by commas.
  const token = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
  const skip = (re: RegExp, s: string, at: number) => {
    re.lastIndex = at;
    return re.exec(s) ? re.lastIndex : at;
  };
  const space = /[ \t]*/y;
  let i = 0;
  let current: Record<string, string> | undefined;
  let found: Record<string, string> | undefined;
  while (i < header.length) {
    i = skip(/[ \t,]*/y, header, i);
    token.lastIndex = i;
    const name = token.exec(header)?.[0];
    if (!name) return found ?? (current?.__bearer ? strip(current) : undefined);
    i = skip(space, header, token.lastIndex);
    if (header[i] === '=') {
      // an auth-param of the current challenge
      i = skip(space, header, i + 1);
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\') i++;
          value += header[i] ?? '';
          i++;
        }
        i++;
      } else {
        // Strictly a token; servers also send bare URLs, so take everything up to a comma or space.
        const bare = /[^\s,]*/y;
        bare.lastIndex = i;
        value = bare.exec(header)?.[0] ?? '';
        i = bare.lastIndex;
      }
      if (current && !(name.toLowerCase() in current)) current[name.toLowerCase()] = value;
    } else {
      // a new challenge begins
      if (current?.__bearer && !found) found = strip(current);
      current = name.toLowerCase() === 'bearer' ? { __bearer: '1' } : {};
    }
  }
  if (current?.__bearer && !found) found = strip(current);
  return found;
}

function strip(params: Record<string, string>): Record<string, string> {
  const { __bearer: _, ...rest } = params;
  return rest;
}
