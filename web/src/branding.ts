import type { Branding } from './api/session.js';

const HEX = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

/**
 * Applies the client's accent colour as CSS variables on the root element:
 * `--accent` and a readable text colour on it, `--on-accent`. Anything but a
 * hex colour is ignored (the default accent stays).
 */
export function applyBranding(branding: Branding): void {
  document.title = `Manage connections · ${branding.displayName}`;
  const accent = branding.accentColor.trim();
  if (!HEX.test(accent)) return;
  const root = document.documentElement.style;
  root.setProperty('--accent', accent);
  root.setProperty('--on-accent', luminance(accent) > 0.179 ? '#111' : '#fff');
}

function luminance(hex: string): number {
  const full = hex.length === 4 ? `#${[...hex.slice(1)].map((c) => c + c).join('')}` : hex;
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(full.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
