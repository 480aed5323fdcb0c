/**
 * A story: every event a term leads to (an order's number, any id) and the events of their
 * stories, with every handler run and webhook delivery, in one list in time order. Each
 * event is indented under the run that emitted it (its causation), so the list reads as the
 * causal tree too; an event opens in the events view. Kept in the URL (?view=story&story=).
 */
import { type FormEvent, useEffect, useState } from "react";
import { api } from "../api.ts";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { WaitingBadge } from "../components/WaitingBadge.tsx";
import { dateTime, formatDuration, shortId, timeOf } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { Story } from "../types.ts";
import { REFRESH_MS, usePolling } from "../use-polling.ts";
import { setUrlParams, useUrlParams } from "../url-state.ts";

type Entry =
  | { kind: "event"; at: string; event: Story["events"][number] }
  | { kind: "run"; at: string; run: Story["runs"][number] }
  | { kind: "delivery"; at: string; delivery: Story["deliveries"][number] };

/** The story's entries in time order (an event before its own runs at the same instant). */
export function storyEntries(story: Story): Entry[] {
  const entries: Entry[] = [
    ...story.events.map((event) => ({ kind: "event" as const, at: event.created_at, event })),
    ...story.runs.map((run) => ({ kind: "run" as const, at: run.created_at, run })),
    ...story.deliveries.map((delivery) => ({ kind: "delivery" as const, at: delivery.created_at, delivery })),
  ];
  const rank = { event: 0, run: 1, delivery: 2 };
  return entries.sort((a, b) => a.at.localeCompare(b.at) || rank[a.kind] - rank[b.kind]);
}

/** How deep each event sits in its story's causal tree (a root 0, what its handlers emitted 1...). */
export function depths(story: Story): Map<string, number> {
  const byId = new Map(story.events.map((e) => [e.id, e]));
  const depth = new Map<string, number>();
  const of = (id: string, seen = new Set<string>()): number => {
    if (depth.has(id)) return depth.get(id)!;
    const cause = byId.get(id)?.causation_id;
    const d = cause && byId.has(cause) && !seen.has(cause) ? of(cause, seen.add(id)) + 1 : 0;
    depth.set(id, d);
    return d;
  };
  for (const e of story.events) of(e.id);
  return depth;
}

export function StoryView({ live }: { live: boolean }) {
  const { t } = useI18n();
  const [params] = useUrlParams();
  const term = params.get("story") || "";
  const [draft, setDraft] = useState(term);
  useEffect(() => setDraft(term), [term]);
  const story = usePolling(() => (term ? api.story(term) : Promise.resolve(undefined)), term, REFRESH_MS, live && Boolean(term));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setUrlParams({ story: draft.trim() || undefined });
  };
  return (
    <section className="card story" aria-labelledby="story-title" data-testid="story">
      <h2 id="story-title">{t("storyTitle")}</h2>
      <form className="filter-row" onSubmit={submit} role="search">
        <label className="field">
          {t("storyLabel")}
          <input name="story" value={draft} placeholder={t("storyPlaceholder")} aria-describedby="story-hint"
            onChange={(e) => setDraft(e.target.value)} autoComplete="off" spellCheck={false} />
          <small id="story-hint" className="hint">{t("storyHint")}</small>
        </label>
        <div className="filter-buttons"><button type="submit" className="primary" data-testid="story-open">{t("storyOpen")}</button></div>
      </form>
      {story.error && <p className="error">{story.error.message}</p>}
      {story.data && <StoryTimeline story={story.data} />}
    </section>
  );
}

function StoryTimeline({ story }: { story: Story }) {
  const { t, lang } = useI18n();
  if (story.events.length === 0) return <p className="empty">{t("storyEmpty", { term: story.term })}</p>;
  const depth = depths(story);
  const typeOf = new Map(story.events.map((e) => [e.id, e.event_type]));
  const indent = (d: number) => ({ paddingInlineStart: `${d * 1.25}rem` });
  return (
    <>
      <p className="muted">{t("storyEvents", { n: story.events.length, runs: story.runs.length })}</p>
      {story.truncated && <p className="muted">{t("storyTruncated", { n: story.events.length })}</p>}
      <ol className="story-list" data-testid="story-list">
        {storyEntries(story).map((entry) => {
          if (entry.kind === "event") {
            const e = entry.event;
            return (
              <li key={`e${e.id}`} className="story-event" style={indent(depth.get(e.id) ?? 0)} data-testid="story-event" data-type={e.event_type}>
                <time dateTime={e.created_at} title={dateTime(e.created_at, lang)}>{timeOf(e.created_at, lang)}</time>{" "}
                <a href={`?event=${e.id}`} onClick={(ev) => (ev.preventDefault(), setUrlParams({ view: undefined, story: undefined, event: e.id }))}>
                  {e.event_type} · {shortId(e.id)}
                </a>{" "}
                <StatusBadge status={e.status} /> <WaitingBadge reason={e.waiting} />
                {e.causation_id && e.causation_handler && (
                  <small className="muted"> {t("storyCausedBy", { handler: e.causation_handler, id: `${typeOf.get(e.causation_id) ?? ""} ${shortId(e.causation_id)}`.trim() })}</small>
                )}
                {e.error_message && <div className="error">{e.error_message}</div>}
              </li>
            );
          }
          if (entry.kind === "run") {
            const r = entry.run;
            return (
              <li key={`r${r.event_id}${r.handler_name}${r.attempt}`} className="story-run" style={indent((depth.get(r.event_id) ?? 0) + 1)} data-testid="story-run">
                <time dateTime={r.created_at}>{timeOf(r.created_at, lang)}</time>{" "}
                {t("storyRun", { handler: r.handler_name, status: t(r.status), d: formatDuration(r.duration_ms) })}
                {r.error_message && <span className="error"> · {r.error_message}</span>}
              </li>
            );
          }
          const d = entry.delivery;
          return (
            <li key={`d${d.event_id}${d.handler_name}${d.attempt}`} className="story-run" style={indent((depth.get(d.event_id) ?? 0) + 1)}>
              <time dateTime={d.created_at}>{timeOf(d.created_at, lang)}</time>{" "}
              {t("storyDelivery", { status: d.status_code ?? "—", handler: d.handler_name })}
            </li>
          );
        })}
      </ol>
    </>
  );
}
