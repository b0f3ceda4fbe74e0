import { createHash } from 'node:crypto';

/**
 * A catalog entry's logo: a monogram (one or two letters of the display
 * name on a coloured rounded square) as an SVG data: URL. Deterministic
 * (the colour comes from a hash of the entry name), served inside the API
 * answer itself, so showing a catalog logo makes no request to anyone, and
 * in particular tells no favicon service which services a user looks at.
 */
export function monogramLogo(name: string, displayName: string): string {
  const letters = initials(displayName || name);
  const hue = createHash('sha256').update(name).digest().readUInt16BE(0) % 360;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">` +
    `<rect width="64" height="64" rx="14" fill="hsl(${hue},55%,38%)"/>` +
    `<text x="32" y="41" font-family="system-ui,sans-serif" font-size="${letters.length > 1 ? 24 : 28}" font-weight="700" fill="#fff" text-anchor="middle">${letters}</text>` +
    `</svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** The first letters of the first two words (letters and digits only, so nothing needs escaping in SVG). */
function initials(text: string): string {
  const words = text
    .split(/[\s()/-]+/)
    .map((w) => w.replace(/[^A-Za-z0-9]/g, ''))
    .filter(Boolean);
  const letters = words.length > 1 ? words[0]!.charAt(0) + words[1]!.charAt(0) : (words[0] ?? '?').slice(0, 2);
  return letters.toUpperCase() || '?';
}
