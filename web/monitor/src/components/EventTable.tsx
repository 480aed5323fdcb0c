/**
 * Events newest first, a page at a time (keyset: the cursor is in the URL, the way back in
 * memory). Each row's event link opens it: reachable with Tab, opened with Enter; a click
 * anywhere on the row does the same. The table scrolls inside its card, never the page.
 */
import { useEffect, useState } from "react";
import { attemptSummary, dateTime, listTime, shortId } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { EventPage } from "../types.ts";
import { setUrlParams } from "../url-state.ts";
import { StatusBadge } from "./StatusBadge.tsx";
import { WaitingBadge } from "./WaitingBadge.tsx";

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
    <section className="card events" aria-labelledby="events-title">
      <h2 id="events-title">{t("events")}</h2>
      {error && <p className="error">{error.message}</p>}
      <div className="scroll">
        <table data-testid="events">
          <thead>
            <tr>
              <th>{t("created")}</th><th>{t("event")}</th><th>{t("status")}</th><th>{t("attempt")}</th>
              <th className="wide-only">{t("aggregate")}</th><th className="wide-only">{t("error")}</th>
            </tr>
          </thead>
          <tbody>
            {page?.events.map((e) => (
              <tr key={e.id} data-testid="event-row" data-id={e.id} className={e.id === selected ? "selected" : ""} onClick={() => onSelect(e.id)}>
                <td className="nowrap" title={dateTime(e.created_at, lang)}>{listTime(e.created_at, lang)}</td>
                <td className="mono">
                  <a href={`?event=${e.id}`} data-testid="event-link" aria-current={e.id === selected ? "true" : undefined}
                    onClick={(ev) => (ev.preventDefault(), ev.stopPropagation(), onSelect(e.id))}>
                    {e.event_type}
                  </a>
                  <span className="muted"> · {shortId(e.id)}</span>
                </td>
                <td><StatusBadge status={e.status} /> <WaitingBadge reason={e.waiting} /></td>
                <td className="nowrap">{attemptSummary(e, t, lang)}</td>
                <td className="mono wide-only" title={e.aggregate_id}>{e.aggregate_type} {shortId(e.aggregate_id)}</td>
                <td className="error-cell wide-only" title={e.error_message ?? ""}>{e.error_message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page && page.events.length === 0 && <p className="empty">{t("noEvents")}</p>}
      <div className="pager">
        <button type="button" disabled={!cursor} onClick={() => setUrlParams({ cursor: undefined })}>{t("firstPage")}</button>
        <button type="button" disabled={!cursor} onClick={newer}>{t("newer")}</button>
        <button type="button" disabled={!page?.next_cursor} onClick={older} data-testid="older">{t("older")}</button>
      </div>
    </section>
  );
}
