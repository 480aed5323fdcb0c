/** Events newest first, a page at a time (keyset: the cursor is in the URL, the way back in memory). */
import { useEffect, useState } from "react";
import { useI18n } from "../i18n.tsx";
import type { EventPage } from "../types.ts";
import { setUrlParams } from "../url-state.ts";
import { StatusBadge } from "./StatusBadge.tsx";

interface Props {
  page?: EventPage;
  error?: Error;
  cursor?: string;
  selected?: string;
  onSelect: (id: string) => void;
}

export function EventTable({ page, error, cursor, selected, onSelect }: Props) {
  const { t, lang } = useI18n();
  const [previous, setPrevious] = useState<(string | undefined)[]>([]);
  useEffect(() => {
    if (!cursor) setPrevious([]);
  }, [cursor]);
  const older = () => {
    setPrevious([...previous, cursor]);
    setUrlParams({ cursor: page?.next_cursor ?? undefined });
  };
  const newer = () => {
    setUrlParams({ cursor: previous.at(-1) });
    setPrevious(previous.slice(0, -1));
  };
  return (
    <section className="card events">
      <h2>{t("events")}</h2>
      {error && <p className="error">{error.message}</p>}
      <table data-testid="events">
        <thead>
          <tr>
            <th>{t("created")}</th><th>{t("type")}</th><th>{t("status")}</th><th>{t("attempt")}</th><th>{t("aggregate")}</th><th>{t("error")}</th>
          </tr>
        </thead>
        <tbody>
          {page?.events.map((e) => (
            <tr key={e.id} data-testid="event-row" data-id={e.id} className={e.id === selected ? "selected" : ""} onClick={() => onSelect(e.id)}>
              <td>{new Date(e.created_at).toLocaleString(lang)}</td>
              <td className="mono">{e.event_type}</td>
              <td><StatusBadge status={e.status} /></td>
              <td>{e.attempt} · {e.retry_count}/{e.max_retries}</td>
              <td className="mono" title={e.aggregate_id}>{e.aggregate_type} {e.aggregate_id.slice(0, 8)}</td>
              <td className="error-cell" title={e.error_message ?? ""}>{e.error_message}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {page && page.events.length === 0 && <p className="empty">{t("noEvents")}</p>}
      <div className="pager">
        <button type="button" disabled={!cursor} onClick={() => setUrlParams({ cursor: undefined })}>{t("firstPage")}</button>
        <button type="button" disabled={!cursor} onClick={newer}>{t("newer")}</button>
        <button type="button" disabled={!page?.next_cursor} onClick={older} data-testid="older">{t("older")}</button>
      </div>
    </section>
  );
}
