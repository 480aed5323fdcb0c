/** A message next to the field it is about: the field points at it with aria-describedby. */
import { useI18n } from "./i18n.tsx";
import type { Problem } from "./quantity.ts";

export function FieldMessage({ id, problem, role }: { id: string; problem?: Problem; role?: "alert" }) {
  const { t } = useI18n();
  if (!problem) return null;
  return <p id={id} className="field-error" role={role} tabIndex={role ? -1 : undefined}>{t(problem.key, problem.vars)}</p>;
}

/** The props that tie a field to its message, when it has one. */
export const invalidProps = (messageId: string, problem: Problem | undefined) =>
  problem ? { "aria-invalid": true as const, "aria-describedby": messageId } : {};
