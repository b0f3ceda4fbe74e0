import { createHash } from 'node:crypto';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The one inline style of server-rendered pages; the default CSP admits exactly this text by its hash. */
const PAGE_STYLE = `
body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
label{display:block;margin:1rem 0 .25rem;font-weight:600}input{width:100%;padding:.5rem;box-sizing:border-box;font-size:1rem}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}.error{color:#a00000}.hint{color:#555;font-size:.9rem}
`;

/** The CSP source expression admitting one inline script or style. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The Content Security Policy of every HTML response that does not set a
 * stricter one of its own (see security-headers.ts): nothing inline but the
 * page style (by hash) and the given inline scripts (by hash), scripts and
 * API calls from this origin only, forms posted only here, never framed.
 */
export function pageCsp(inlineScripts: string[] = []): string {
  const scripts = ["'self'", ...inlineScripts.map(cspHash)].join(' ');
  return [
    "default-src 'none'",
    `script-src ${scripts}`,
    `style-src 'self' ${cspHash(PAGE_STYLE)}`,
    "img-src 'self' https: data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * A server-rendered page. A page with an inline `script` must send
 * `pageCsp([script])` as its content-security-policy header, or the
 * browser will not run the script.
 */
export function page(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style></head><body>${body}${script ? `<script>${script}</script>` : ''}</body></html>`;
}
