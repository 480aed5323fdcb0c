/**
 * A buyer's sign-in on a Supabase project: Supabase Auth emails a magic link that comes
 * back to this page signed in (auth.ts takes the token). Locally there is no Supabase Auth:
 * `npm start` prints a sign-in link for the demo buyer instead, and this form is not shown.
 */
import { useState } from "react";
import { sendSignInLink } from "./auth.ts";
import { FieldMessage, invalidProps } from "./FieldMessage.tsx";
import { looksLikeEmail } from "./errors.ts";
import { useI18n } from "./i18n.tsx";
import type { Problem } from "./quantity.ts";

export function SignIn({ email: initial }: { email: string }) {
  const { t } = useI18n();
  const [email, setEmail] = useState(initial);
  const [problem, setProblem] = useState<Problem>();
  const [sent, setSent] = useState(false);

  async function send() {
    if (!looksLikeEmail(email.trim())) return setProblem({ key: "errEmail" });
    setProblem(undefined);
    try {
      await sendSignInLink(email.trim());
      setSent(true);
    } catch {
      setProblem({ key: "linkFailed" });
    }
  }

  return (
    <section className="my-orders" aria-labelledby="sign-in-title">
      <h2 id="sign-in-title">{t("myOrders")}</h2>
      <p>{t("signInHint")}</p>
      {sent ? <p role="status">{t("linkSent")}</p> : (
        <form noValidate onSubmit={(e) => { e.preventDefault(); send(); }}>
          <label>
            {t("email")}
            <input type="email" autoComplete="email" value={email} {...invalidProps("sign-in-msg", problem)} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <FieldMessage id="sign-in-msg" problem={problem} />
          <button type="submit">{t("sendLink")}</button>
        </form>
      )}
    </section>
  );
}
