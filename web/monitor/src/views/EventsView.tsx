/**
 * The events view: filters, actions over the filter, the list, and the open event beside
 * it (wide screens) or instead of it (phones: the detail's Back returns to the list).
 */
import { api } from "../api.ts";
import type { PendingAction } from "../components/ActionDialog.tsx";
import type { PendingBulk } from "../components/BulkDialog.tsx";
import { EventDetail } from "../components/EventDetail.tsx";
import { EventTable } from "../components/EventTable.tsx";
import { FilterBar } from "../components/FilterBar.tsx";
import { filterKey, filterLabel, readFilters } from "../filters.ts";
import { useI18n } from "../i18n.tsx";
import type { BulkKind, Me } from "../types.ts";
import { REFRESH_MS, usePolling } from "../use-polling.ts";
import { useUrlParams } from "../url-state.ts";

interface Props {
  me: Me;
  live: boolean;
  version: number;
  onAct?: (action: PendingAction) => void;
  onBulk?: (bulk: PendingBulk) => void;
}

export function EventsView({ me, live, version, onAct, onBulk }: Props) {
  const { t } = useI18n();
  const [params, setParams] = useUrlParams();
  const filters = readFilters(params);
  const cursor = params.get("cursor") || undefined;
  const selected = params.get("event") || undefined;
  const events = usePolling((signal) => api.events({ ...filters, cursor }, signal), `${filterKey(filters)}|${cursor}|${version}`, REFRESH_MS, live);
  const bulk = (kind: BulkKind) => onBulk?.({ kind, filter: filters, label: filterLabel(filters, t) || t("everything") });
  const open = (id: string) => {
    setParams({ event: id });
    // On a phone the detail replaces the list: show it from its top.
    if (window.matchMedia("(max-width: 999px)").matches) window.scrollTo(0, 0);
  };
  return (
    <div className={selected ? "events-view has-detail" : "events-view"}>
      <FilterBar me={me} filters={filters} />
      {onBulk && (
        <div className="bulk-bar" role="group" aria-label={t("bulkLabel")}>
          <span className="muted">{t("bulkLabel")}:</span>
          <button type="button" data-testid="bulk-retry" onClick={() => bulk("retry")}>{t("bulkRetry")}</button>
          <button type="button" data-testid="bulk-redrive" onClick={() => bulk("redrive")}>{t("bulkRedrive")}</button>
          <button type="button" data-testid="bulk-discard" onClick={() => bulk("discard")}>{t("bulkDiscard")}</button>
        </div>
      )}
      <div className={selected ? "split has-detail" : "split"}>
        <EventTable page={events.data} error={events.error} cursor={cursor} selected={selected} onSelect={open} />
        {selected && <EventDetail id={selected} live={live} version={version} onClose={() => setParams({ event: undefined })} onAct={onAct} />}
      </div>
    </div>
  );
}
