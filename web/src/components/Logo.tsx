import { useState } from 'preact/hooks';

/**
 * Whether the app may show an image from `url`: a data: URL or one of
 * Nexus's own paths. Any other host would learn which services a user looks
 * at (the catalog's logos are data: monograms for that reason); the page's
 * CSP (img-src 'self' data:) refuses them as well.
 */
export function ownImage(url: string, origin = location.origin): boolean {
  if (url.startsWith('data:image/')) return true;
  try {
    return new URL(url, origin).origin === origin;
  } catch {
    return false;
  }
}

/** A provider's or client's logo; its initials when there is none, it is not Nexus's own, or it fails to load. */
export function Logo({ url, name, size = 40 }: { url: string; name: string; size?: number }) {
  const [failed, setFailed] = useState(false);
  if (url && !failed && ownImage(url)) {
    return <img class="logo" src={url} alt="" width={size} height={size} referrerpolicy="no-referrer" onError={() => setFailed(true)} />;
  }
  const initials = name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w.charAt(0).toUpperCase())
    .join('');
  return (
    <span class="logo placeholder" aria-hidden="true" style={{ width: `${size}px`, height: `${size}px` }}>
      {initials || '?'}
    </span>
  );
}
