import type { WaitingReason } from "../../../../src/bus/vocabulary.ts";
import { useI18n } from "../i18n.tsx";

/** Why an open event waits, beside its status in the list: held, scheduled, paused route, rate limited, retrying. */
export function WaitingBadge({ reason }: { reason: WaitingReason | null }) {
  const { t } = useI18n();
  // "retrying" says no more than the failed status beside it; "due" needs no word.
  if (!reason || reason === "retrying" || reason === "due") return null;
  return <span className={`badge waiting waiting-${reason}`} data-waiting={reason}>{t(`waiting_${reason}`)}</span>;
}
