/**
 * The marketplace's own settings and schedule, declared as the bus declares its own
 * (src/bus/settings.ts, src/bus/schedules.ts): the bus knows no application, so what only
 * the marketplace reads is listed here. docs/settings.md shows both lists
 * (`npm run gen:settings`); the composition roots parse both at start.
 */
import { defineSettings, type Env, EVERYWHERE, readSetting, type Schedule, type Settings, text, url } from "../bus/index.ts";

export const MARKETPLACE_SETTINGS = defineSettings({
  RESEND_API_KEY: { kind: text("a Resend API key"), secret: true, where: EVERYWHERE, defaultText: "none: no email is sent", meaning: "Enables real email (order notices, alert emails) through Resend's HTTP API." },
  EMAIL_FROM: { kind: text("an address, with a name"), default: "Feyxa <orders@feyxa.local>", where: EVERYWHERE, meaning: "The sender of the marketplace's email." },
  RESEND_BASE_URL: { kind: url(/^https?:$/, "an http(s) URL"), default: "https://api.resend.com", where: EVERYWHERE, meaning: "Where the email API is (any server speaking Resend's shape)." },
  SUPABASE_SERVICE_ROLE_KEY: {
    kind: text("the project's service_role key"), secret: true, platform: true, where: EVERYWHERE, defaultText: "none: the call carries no key",
    meaning: "The key a remote delivery to an Edge Function sends (a subscription whose target is a function).",
  },
});

export type MarketplaceSettings = Settings<typeof MARKETPLACE_SETTINGS>;

/** One of the marketplace's settings, read where it is used. */
export const marketplaceSetting = <K extends keyof MarketplaceSettings & string>(env: Env, name: K): MarketplaceSettings[K] =>
  readSetting(MARKETPLACE_SETTINGS, env, name);

export const MARKETPLACE_SCHEDULES = Object.freeze({
  automationsPoll: { job: "feyxa-automations-poll", everyMs: 60_000, does: "automations-poll: one round of the automations' poll triggers" },
} satisfies Record<string, Schedule>);
