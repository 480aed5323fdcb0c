/** Shown when there is no valid session: the local link's hint, and Supabase Auth's sign-in where configured. */
import { type FormEvent, useState } from "react";
import { signInWithPassword, usesSupabaseAuth } from "../auth.ts";
import { useI18n } from "../i18n.tsx";

export function SignIn({ error, onSignedIn }: { error?: string; onSignedIn: () => void }) {
  const { t } = useI18n();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [failure, setFailure] = useState<string | undefined>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await signInWithPassword(email, password);
      onSignedIn();
    } catch (err) {
      setFailure((err as Error).message);
    }
  };
  return (
    <div className="signin card" data-testid="signin">
      <h1>Feyxa · {t("title")}</h1>
      <p>{t("notSignedIn")}</p>
      {error && <p className="error">{error}</p>}
      {usesSupabaseAuth && (
        <form onSubmit={submit}>
          <label>{t("email")} <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required /></label>
          <label>{t("password")} <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required /></label>
          <button type="submit" className="primary">{t("signIn")}</button>
          {failure && <p className="error">{failure}</p>}
        </form>
      )}
    </div>
  );
}
