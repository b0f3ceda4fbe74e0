import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';

interface Props {
  title: string;
  /** Called when the user dismisses the dialog (Escape, the close button, or a Cancel). */
  onClose: () => void;
  children: ComponentChildren;
  /** Element id inside the dialog to focus first; the first focusable element otherwise. */
  initialFocus?: string;
}

/**
 * A modal dialog on the native <dialog> element: showModal() makes the rest
 * of the page inert and Escape fires `cancel`. Tab and Shift+Tab wrap around
 * inside the dialog (the browser would otherwise move focus out to its own
 * toolbar), and on close focus returns to the control that opened it.
 * Rendered while open; unmounting closes it.
 */
export function Dialog({ title, onClose, children, initialFocus }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = `dialog-title-${title.replace(/\W+/g, '-').toLowerCase()}`;
  // A layout effect: the dialog opens before the first paint, and on unmount focus goes
  // back to the opener synchronously rather than after a deferred cleanup.
  useLayoutEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    const first = (initialFocus && dialog.querySelector<HTMLElement>(`#${initialFocus}`)) || dialog.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
    return () => {
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onKeyDown={(e) => trapTab(e, ref.current!)}
    >
      <div class="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}

const FOCUSABLE = 'input:not([disabled]), select:not([disabled]), textarea:not([disabled]), button:not([disabled]):not(.icon-button), [href]';
const TABBABLE = 'input:not([disabled]), select:not([disabled]), textarea:not([disabled]), button:not([disabled]), [href]';

function trapTab(e: KeyboardEvent, dialog: HTMLDialogElement): void {
  if (e.key !== 'Tab') return;
  const items = [...dialog.querySelectorAll<HTMLElement>(TABBABLE)].filter((el) => el.tabIndex >= 0);
  const first = items[0];
  const last = items[items.length - 1];
  if (!first || !last) return;
  const active = document.activeElement;
  if (e.shiftKey && (active === first || !dialog.contains(active))) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (active === last || !dialog.contains(active))) {
    e.preventDefault();
    first.focus();
  }
}
