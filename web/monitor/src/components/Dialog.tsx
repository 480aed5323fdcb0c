/**
 * A modal dialog that keyboard and screen-reader users can live with: the native <dialog>
 * opened with showModal() (the page behind is inert), focus moved inside on open and kept
 * there (Tab and Shift+Tab wrap), Escape closes, and focus goes back to what opened it.
 */
import { type ReactNode, useEffect, useId, useRef } from "react";

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function Dialog({ title, onClose, children, testId }: { title: string; onClose: () => void; children: ReactNode; testId?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    const openerTestId = opener?.getAttribute("data-testid");
    if (!dialog.open) dialog.showModal();
    const first = dialog.querySelector<HTMLElement>("[data-autofocus]") ?? dialog.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
    return () => {
      if (dialog.open) dialog.close();
      // The opener may have been re-rendered meanwhile (a button that went while the event
      // ran): then its successor, else the page's main heading.
      const successor = openerTestId ? document.querySelector<HTMLElement>(`[data-testid="${openerTestId}"]`) : null;
      (opener?.isConnected ? opener : successor ?? document.querySelector<HTMLElement>("h1"))?.focus?.();
    };
  }, []);
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key !== "Tab") return;
    const items = [...ref.current!.querySelectorAll<HTMLElement>(FOCUSABLE)];
    if (items.length === 0) return;
    const [first, last] = [items[0], items.at(-1)!];
    if (e.shiftKey && document.activeElement === first) (e.preventDefault(), last.focus());
    else if (!e.shiftKey && document.activeElement === last) (e.preventDefault(), first.focus());
  };
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} data-testid={testId} onKeyDown={onKeyDown}
      onCancel={(e) => (e.preventDefault(), onClose())}>
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}
