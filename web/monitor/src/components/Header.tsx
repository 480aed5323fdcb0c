import { signOut } from "../auth.ts";
import { useI18n } from "../i18n.tsx";
import type { Me } from "../types.ts";
import { REFRESH_MS } from "../use-polling.ts";

export function Header({ me, live, onToggleLive, updatedAt }: { me: Me; live: boolean; onToggleLive: () => void; updatedAt?: Date }) {
  const { t, lang, setLang } = useI18n();
  return (
    <header className="header">
      <h1 tabIndex={-1}>Feyxa · {t("title")}</h1>
      <span className={`live ${live ? "on" : "off"}`} data-testid="live">
        {live ? t("refreshing", { s: REFRESH_MS / 1000 }) : t("paused")}
        {updatedAt && ` · ${t("updatedAt", { time: updatedAt.toLocaleTimeString(lang) })}`}
      </span>
      <button type="button" onClick={onToggleLive}>{live ? t("pause") : t("resume")}</button>
      <label className="lang">
        {t("language")}{" "}
        <select value={lang} onChange={(e) => setLang(e.target.value as "en" | "fr")} data-testid="lang">
          <option value="en">English</option>
          <option value="fr">Français</option>
        </select>
      </label>
      <span className="who" data-testid="who">
        {t("signedInAs")} {me.email ?? me.user_id} ({me.is_admin ? t("admin") : t("storeMember")})
      </span>
      <button type="button" onClick={() => signOut().then(() => window.location.reload())}>{t("signOut")}</button>
    </header>
  );
}
