/** The monitor: header, filters, stats, the event list, an event's detail, and the operator's actions. */
import { useEffect, useState } from "react";
import { api, ApiError } from "./api.ts";
import { takeTokenFromLink } from "./auth.ts";
import { ActionDialog, type PendingAction } from "./components/ActionDialog.tsx";
import { AuditTrail } from "./components/AuditTrail.tsx";
import { EventDetail } from "./components/EventDetail.tsx";
import { EventTable } from "./components/EventTable.tsx";
import { FilterBar } from "./components/FilterBar.tsx";
import { Header } from "./components/Header.tsx";
import { SignIn } from "./components/SignIn.tsx";
import { StatsPanel } from "./components/StatsPanel.tsx";
import { filterKey, readFilters } from "./filters.ts";
import { useI18n } from "./i18n.tsx";
import type { Me } from "./types.ts";
import { REFRESH_MS, usePolling } from "./use-polling.ts";
import { useUrlParams } from "./url-state.ts";

takeTokenFromLink();

export function App() {
  const { t } = useI18n();
  const [params, setParams] = useUrlParams();
  const [live, setLive] = useState(true);
  const [pending, setPending] = useState<PendingAction | undefined>();
  const [me, setMe] = useState<Me | undefined>();
  const [authError, setAuthError] = useState<ApiError | undefined>();
  const [signedIn, setSignedIn] = useState(0);
  const [actionsDone, setActionsDone] = useState(0);

  useEffect(() => {
    api.me().then((m) => (setMe(m), setAuthError(undefined)), (e: ApiError) => setAuthError(e));
  }, [signedIn]);

  const filters = readFilters(params);
  const key = filterKey(filters);
  const cursor = params.get("cursor") || undefined;
  const win = params.get("window") || "1h";
  const selected = params.get("event") || undefined;
  const ready = Boolean(me);

  const events = usePolling(() => api.events({ ...filters, cursor }), `${key}|${cursor}|${ready}`, REFRESH_MS, live && ready);
  const stats = usePolling(() => api.stats({ type: filters.type, tenant: filters.tenant, window: win }), `${key}|${win}|${ready}`, REFRESH_MS, live && ready);

  if (authError?.status === 401 || authError?.status === 403) return <SignIn error={authError.message} onSignedIn={() => setSignedIn((n) => n + 1)} />;
  if (!me) return <p className="loading">{authError ? authError.message : t("loading")}</p>;

  const afterAction = () => {
    events.reload();
    stats.reload();
    setActionsDone((n) => n + 1);
  };
  const act = me.is_admin ? setPending : undefined;

  return (
    <div className="page">
      <Header me={me} live={live} onToggleLive={() => setLive(!live)} updatedAt={events.updatedAt} />
      <FilterBar me={me} filters={filters} />
      <StatsPanel stats={stats.data} error={stats.error} window={win} onAct={act} />
      <div className={selected ? "split" : ""}>
        <EventTable
          page={events.data}
          error={events.error}
          cursor={cursor}
          selected={selected}
          onSelect={(id) => setParams({ event: id })}
        />
        {selected && (
          <EventDetail id={selected} live={live} onClose={() => setParams({ event: undefined })} onAct={act} />
        )}
      </div>
      {me.is_admin && <AuditTrail live={live} version={actionsDone} />}
      {pending && <ActionDialog action={pending} onClose={() => setPending(undefined)} onDone={afterAction} />}
    </div>
  );
}
