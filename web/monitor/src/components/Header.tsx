import { signOut } from "../auth.ts";
import { useI18n } from "../i18n.tsx";
import type { Me } from "../types.ts";
import { formatDuration } from "../format.ts";

interface Props {
  me: Me;
  live: boolean;
  onToggleLive: () => void;
  updatedAt?: Date;
  /** How often the numbers are asked for now, and how often while answers are quick. */
  periodMs: number;
  askedMs: number;
}

/** The page's title, whether it is live (and how often it asks: slower while the server is slow), the language, who is signed in. */
export function Header({ me, live, onToggleLive, updatedAt, periodMs, askedMs }: Props) {
  const { t, lang, setLang } = useI18n();
  const every = formatDuration(periodMs, lang);
  return (
    <header className="header">
      <h1 tabIndex={-1}>Feyxa · {t("title")}</h1>
      <span className={`live ${live ? "on" : "off"}`} data-testid="live" data-period={periodMs}>
        {!live ? t("paused") : periodMs > askedMs ? t("refreshingSlowly", { every }) : t("refreshing", { every })}
        {updatedAt && ` · ${t("updatedAt", { time: updatedAt.toLocaleTimeString(lang) })}`}
      </span>
      <button type="button" onClick={onToggleLive}>{live ? t("pause") : t("resume")}</button>
      <label className="lang">
        {t("language")}{" "}
        <select value={lang} onChange={(e) => setLang(e.target.value as "en" | "fr")} data-testid="lang">
          <option value="en" lang="en">English</option>
          <option value="fr" lang="fr">Français</option>
        </select>
      </label>
      <span className="who" data-testid="who">
        {t("signedInAs")} {me.email ?? me.user_id} ({me.is_admin ? t("admin") : t("storeMember")})
      </span>
      <button type="button" onClick={() => signOut().then(() => window.location.reload())}>{t("signOut")}</button>
    </header>
  );
}
