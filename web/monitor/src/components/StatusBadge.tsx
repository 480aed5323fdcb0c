import { EVENT_STATUSES, HANDLER_RUN_STATUSES } from "../../../../src/bus/vocabulary.ts";
import { useI18n } from "../i18n.tsx";
import type { StringKey } from "../strings.ts";

/** Every status of the vocabulary, each a key of strings.ts: a status without its words fails the type check. */
const LABELLED: readonly StringKey[] = [...EVENT_STATUSES, ...HANDLER_RUN_STATUSES];
const KNOWN = new Set<string>(LABELLED);

/** A status word in its colour: event statuses and handler run statuses alike. */
export function StatusBadge({ status }: { status: string }) {
  const { t } = useI18n();
  const label = KNOWN.has(status) ? t(status as StringKey) : status;
  return <span className={`badge badge-${status}`} data-status={status}>{label}</span>;
}
