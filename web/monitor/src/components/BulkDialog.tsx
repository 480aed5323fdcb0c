/**
 * An action over every event a filter matches: the dialog first asks the server how many
 * it would touch ("this will touch 37 events"), then, once confirmed, sends it one batch at
 * a time (each batch its own action id; the server picks the next batch after the
 * cursor the previous one answered) and says what happened to how many.
 */
import { useEffect, useState } from "react";
import { api } from "../api.ts";
import { formatNumber } from "../format.ts";
import type { Filters } from "../filters.ts";
import { useI18n } from "../i18n.tsx";
import type { BulkKind, BulkPreview } from "../types.ts";
import { Dialog } from "./Dialog.tsx";

export interface PendingBulk {
  kind: BulkKind;
  filter: Filters & { fp?: string };
  /** What the operator sees the filter as ("payout.* · dead"), for the question. */
  label: string;
}

const clean = (filter: PendingBulk["filter"]) =>
  Object.fromEntries(Object.entries(filter).filter((e): e is [string, string] => Boolean(e[1])));

export function BulkDialog({ bulk, onClose, onDone }: { bulk: PendingBulk; onClose: () => void; onDone: () => void }) {
  const { t, lang } = useI18n();
  const n = (v: number) => formatNumber(v, lang);
  const [preview, setPreview] = useState<BulkPreview | undefined>();
  const [reason, setReason] = useState("");
  const [running, setRunning] = useState(false);
  const [totals, setTotals] = useState<{ moved: number; unchanged: number; skipped: number } | undefined>();
  const [finished, setFinished] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const filter = clean(bulk.filter);

  useEffect(() => {
    api.bulkPreview({ ...filter, kind: bulk.kind }).then(setPreview, (e: Error) => setError(e.message));
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const run = async () => {
    setRunning(true);
    setError(undefined);
    const sum = { moved: 0, unchanged: 0, skipped: 0 };
    let cursor: string | null = null;
    try {
      do {
        const r = await api.bulk({ action_id: crypto.randomUUID(), kind: bulk.kind, filter, cursor,
          ...(bulk.kind === "discard" ? { reason: reason.trim() } : {}) });
        sum.moved += r.moved;
        sum.unchanged += r.unchanged;
        sum.skipped += r.skipped;
        setTotals({ ...sum });
        cursor = r.next_cursor;
      } while (cursor);
      setFinished(true);
      onDone();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setRunning(false);
    }
  };

  const verb = t(bulk.kind === "retry" ? "bulkRetry" : bulk.kind === "redrive" ? "bulkRedrive" : "bulkDiscard");
  const count = preview?.count ?? 0;
  return (
    <Dialog title={verb} onClose={onClose} testId="bulk-confirm">
      <p className="mono">{bulk.label}</p>
      <p data-testid="bulk-preview">
        {!preview ? t("counting") : count === 0 ? t("bulkNone") : t(preview.capped ? "bulkTouchesAtLeast" : "bulkTouches", { n: n(count) })}
        {preview && count > 0 && ` (${preview.statuses.map((s) => t(s)).join(", ")})`}
      </p>
      {bulk.kind === "discard" && !finished && (
        <label className="field">
          {t("reason")}
          <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} required data-testid="reason" data-autofocus />
        </label>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      <div role="status" aria-live="polite">
        {totals && (
          <p className={finished ? "ok" : undefined} data-testid="bulk-result">
            {finished ? "" : `${t("bulkRunning")} `}
            {t("bulkTotals", { moved: n(totals.moved), unchanged: n(totals.unchanged), skipped: n(totals.skipped) })}
          </p>
        )}
      </div>
      <div className="dialog-buttons">
        {!finished && (
          <button type="button" className="primary" data-testid="bulk-yes" data-autofocus={bulk.kind !== "discard" || undefined}
            disabled={running || !preview || count === 0 || (bulk.kind === "discard" && !reason.trim())} onClick={run}>
            {t("bulkConfirm", { n: n(count) })}
          </button>
        )}
        <button type="button" onClick={onClose}>{finished ? t("close") : t("cancel")}</button>
      </div>
    </Dialog>
  );
}
