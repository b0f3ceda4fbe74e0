import { useState } from 'preact/hooks';

/** A provider's or client's logo; its initials when there is none or it fails to load. */
export function Logo({ url, name, size = 40 }: { url: string; name: string; size?: number }) {
  const [failed, setFailed] = useState(false);
  if (url && !failed) {
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
