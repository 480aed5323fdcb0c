/**
 * The monitor. The event list and its filters come first (the page's main object); the
 * numbers sit in a compact band above them; failures grouped by fingerprint, the retry
 * queue, the charts, the audit trail and the alert rules are one click away (?view=). The
 * firing alerts are a banner above every view (operators'). On a phone, the list and an
 * event's detail are separate screens.
 */
import { useEffect, useState } from "react";
import { api, ApiError } from "./api.ts";
import { takeTokenFromLink } from "./auth.ts";
import { ActionDialog, type PendingAction } from "./components/ActionDialog.tsx";
import { AlertBanner } from "./components/AlertBanner.tsx";
import { BulkDialog, type PendingBulk } from "./components/BulkDialog.tsx";
import { Header } from "./components/Header.tsx";
import { HealthLine } from "./components/HealthLine.tsx";
import { SignIn } from "./components/SignIn.tsx";
import { StatsBand } from "./components/StatsBand.tsx";
import { ViewNav, type View, VIEWS } from "./components/ViewNav.tsx";
import { readFilters } from "./filters.ts";
import { useI18n } from "./i18n.tsx";
import type { Me } from "./types.ts";
import { REFRESH_MS, refreshFor, usePolling } from "./use-polling.ts";
import { useUrlParams } from "./url-state.ts";
import { AlertsView } from "./views/AlertsView.tsx";
import { AuditView } from "./views/AuditView.tsx";
import { EventsView } from "./views/EventsView.tsx";
import { FailuresView } from "./views/FailuresView.tsx";
import { QueueView } from "./views/QueueView.tsx";
import { RoutesView } from "./views/RoutesView.tsx";
import { StatsView } from "./views/StatsView.tsx";
import { StoryView } from "./views/StoryView.tsx";

takeTokenFromLink();

export function App() {
  const { t } = useI18n();
  const [params] = useUrlParams();
  const [live, setLive] = useState(true);
  const [pending, setPending] = useState<PendingAction | undefined>();
  const [bulk, setBulk] = useState<PendingBulk | undefined>();
  const [me, setMe] = useState<Me | undefined>();
  const [authError, setAuthError] = useState<ApiError | undefined>();
  const [signedIn, setSignedIn] = useState(0);
  const [actionsDone, setActionsDone] = useState(0);

  useEffect(() => {
    api.me().then((m) => (setMe(m), setAuthError(undefined)), (e: ApiError) => setAuthError(e));
  }, [signedIn]);

  const filters = readFilters(params);
  const win = params.get("window") || "1h";
  const view: View = VIEWS.includes(params.get("view") as View) ? (params.get("view") as View) : "events";
  const ready = Boolean(me);
  const stats = usePolling((signal) => api.stats({ type: filters.type, tenant: filters.tenant, window: win }, signal),
    `${filters.type}|${filters.tenant}|${win}|${ready}|${actionsDone}`, refreshFor(win), live && ready);
  // The alert rules are the operators' (RLS): one poll for the banner and the Alerts view.
  const operator = Boolean(me?.is_admin);
  const alerts = usePolling((signal) => (operator ? api.alerts(signal) : Promise.resolve({ rules: [], notices: [] })), `alerts|${operator}`, REFRESH_MS, live && operator);

  if (authError?.status === 401 || authError?.status === 403) return <SignIn error={authError.message} onSignedIn={() => setSignedIn((n) => n + 1)} />;
  if (!me) return <p className="loading">{authError ? authError.message : t("loading")}</p>;

  const afterAction = () => setActionsDone((n) => n + 1);
  const act = me.is_admin ? setPending : undefined;
  const actBulk = me.is_admin ? setBulk : undefined;

  return (
    <div className="page">
      <a className="skip-link" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>{t("skipToContent")}</a>
      <Header me={me} live={live} onToggleLive={() => setLive(!live)} updatedAt={stats.updatedAt} periodMs={stats.periodMs} askedMs={refreshFor(win)} />
      {me.is_admin && <HealthLine live={live} />}
      {me.is_admin && <AlertBanner alerts={alerts.data} />}
      <StatsBand stats={stats.data} error={stats.error} window={win} />
      <ViewNav view={view} isAdmin={me.is_admin} />
      <main id="main" className="view" tabIndex={-1}>
        {view === "events" && <EventsView me={me} live={live} version={actionsDone} onAct={act} onBulk={actBulk} />}
        {view === "story" && <StoryView live={live} />}
        {view === "failures" && <FailuresView live={live} version={actionsDone} onBulk={actBulk} />}
        {view === "queue" && <QueueView stats={stats.data} />}
        {view === "routes" && me.is_admin && <RoutesView live={live} window={win} canAct={me.is_admin} version={actionsDone} onChanged={afterAction} />}
        {view === "stats" && <StatsView stats={stats.data} />}
        {view === "audit" && me.is_admin && <AuditView live={live} version={actionsDone} />}
        {view === "alerts" && me.is_admin && <AlertsView me={me} alerts={alerts} />}
      </main>
      {pending && <ActionDialog action={pending} onClose={() => setPending(undefined)} onDone={afterAction} />}
      {bulk && <BulkDialog bulk={bulk} onClose={() => setBulk(undefined)} onDone={afterAction} />}
    </div>
  );
}
