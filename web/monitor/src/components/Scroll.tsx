/**
 * A box whose content may be wider than the screen (a table on a narrow one): it scrolls
 * inside itself, never the page. While it does overflow it is a named region in the Tab
 * order, so that a keyboard reaches and scrolls it (WCAG 2.1.1; axe's
 * scrollable-region-focusable); while it fits it adds no Tab stop.
 */
import { type ReactNode, useLayoutEffect, useRef, useState } from "react";

export function Scroll({ label, className, children }: { label: string; className?: string; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const [overflows, setOverflows] = useState(false);
  useLayoutEffect(() => {
    const box = ref.current!;
    const check = () => setOverflows(box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1);
    check();
    const observer = new ResizeObserver(check);
    observer.observe(box);
    for (const child of box.children) observer.observe(child);
    return () => observer.disconnect();
  }, []);
  return (
    <div ref={ref} className={className ? `scroll ${className}` : "scroll"} data-overflows={overflows || undefined}
      {...(overflows ? { tabIndex: 0, role: "region", "aria-label": label } : {})}>
      {children}
    </div>
  );
}
