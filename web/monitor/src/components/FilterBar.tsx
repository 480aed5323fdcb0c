/**
 * The filters: type and search always in view, the status chips beside them, why events
 * wait, dates and store behind "More filters" (open while one is set: the first rows fit a
 * phone's first screen that way). Kept in the URL;
 * statuses and store apply at once, text on Apply (or Enter).
 */
import { type FormEvent, useEffect, useState } from "react";
import { type Filters, STATUSES, WAITING } from "../filters.ts";
import { useI18n } from "../i18n.tsx";
import type { Me } from "../types.ts";
import { setUrlParams } from "../url-state.ts";

/** datetime-local inputs speak local time without a zone; the URL and API speak ISO. */
const toInput = (iso?: string) => (iso ? new Date(new Date(iso).getTime() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : "");
const fromInput = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function FilterBar({ me, filters }: { me: Me; filters: Filters }) {
  const { t } = useI18n();
  const [draft, setDraft] = useState(filters);
  useEffect(() => setDraft(filters), [JSON.stringify(filters)]); // eslint-disable-line react-hooks/exhaustive-deps
  const apply = (changes: Partial<Filters>) => setUrlParams({ ...changes, cursor: undefined });
  const statuses = new Set((filters.status ?? "").split(",").filter(Boolean));
  const toggle = (s: string) => {
    statuses.has(s) ? statuses.delete(s) : statuses.add(s);
    apply({ status: STATUSES.filter((x) => statuses.has(x)).join(",") });
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    apply({ type: draft.type?.trim(), q: draft.q?.trim(), from: draft.from, to: draft.to });
  };
  const more = Boolean(filters.from || filters.to || filters.tenant || filters.waiting);
  return (
    <form className="filters" onSubmit={submit} data-testid="filters" aria-label={t("filters")}>
      <div className="filter-row">
        <label className="field">
          {t("type")}
          <input name="type" placeholder={t("typePlaceholder")} aria-describedby="type-hint" value={draft.type ?? ""}
            onChange={(e) => setDraft({ ...draft, type: e.target.value })} autoComplete="off" spellCheck={false} />
          <small id="type-hint" className="hint">{t("typeHint")}</small>
        </label>
        <label className="field">
          {t("search")}
          <input name="q" placeholder={t("searchPlaceholder")} aria-describedby="q-hint" value={draft.q ?? ""}
            onChange={(e) => setDraft({ ...draft, q: e.target.value })} autoComplete="off" spellCheck={false} />
          <small id="q-hint" className="hint">{t("searchHint")}</small>
        </label>
        <div className="filter-buttons">
          <button type="submit" className="primary" data-testid="apply">{t("apply")}</button>
          <button type="button" onClick={() => apply({ type: "", q: "", from: "", to: "", tenant: "", status: "", fp: "", waiting: "" })}>{t("clear")}</button>
        </div>
      </div>
      <fieldset className="statuses">
        <legend>{t("status")}</legend>
        {STATUSES.map((s) => (
          <label key={s} className={`chip badge-${s}`}>
            <input type="checkbox" name={`status-${s}`} checked={statuses.has(s)} onChange={() => toggle(s)} />
            {t(s)}
          </label>
        ))}
      </fieldset>
      {filters.fp && (
        <p className="fp-filter">
          {t("fingerprint")}: <span className="mono">{filters.fp}</span>{" "}
          <button type="button" onClick={() => apply({ fp: "" })}>{t("removeFilter")}</button>
        </p>
      )}
      <details className="more" open={more}>
        <summary>{t("moreFilters")}</summary>
        <div className="filter-row">
        <label className="field waiting-filter">
          {t("waitingLabel")}
          <select name="waiting" value={filters.waiting ?? ""} onChange={(e) => apply({ waiting: e.target.value })} data-testid="waiting-filter">
            <option value="">{t("waitingAny")}</option>
            {WAITING.map((w) => <option key={w} value={w}>{t(`waiting_${w}`)}</option>)}
          </select>
        </label>
          <label className="field">
            {t("from")}
            <input type="datetime-local" name="from" value={toInput(draft.from)} onChange={(e) => setDraft({ ...draft, from: fromInput(e.target.value) })} />
          </label>
          <label className="field">
            {t("to")}
            <input type="datetime-local" name="to" value={toInput(draft.to)} onChange={(e) => setDraft({ ...draft, to: fromInput(e.target.value) })} />
          </label>
          <label className="field">
            {t("store")}
            <select name="tenant" value={filters.tenant ?? ""} onChange={(e) => apply({ tenant: e.target.value })}>
              <option value="">{t("allStores")}</option>
              {me.tenants.map((s) => <option key={s.id} value={s.id}>{s.name ?? s.id}</option>)}
            </select>
          </label>
        </div>
      </details>
    </form>
  );
}
