/**
 * The settings of a local process (npm start, npm run dispatcher): the bus's list
 * (src/bus/settings.ts) and the marketplace's (src/marketplace/settings.ts), parsed from the
 * environment once, at start. A bad value stops the process with a message naming each one
 * and its range; a variable set here that does not apply here is named in a warning line.
 */
import { BUS_SETTINGS, ignoredSettings, parseSettings, type Settings } from "../bus/index.ts";
import { MARKETPLACE_SETTINGS } from "../marketplace/settings.ts";
import { processLogger } from "./log.ts";

/** Every setting a local process may read (one list: their names never clash, tests/bus/settings.test.ts). */
export const LOCAL_SETTINGS = { ...BUS_SETTINGS, ...MARKETPLACE_SETTINGS };
export type LocalSettings = Settings<typeof LOCAL_SETTINGS>;

export function localSettings(place: "start" | "dispatcher", env: Record<string, string | undefined> = process.env): LocalSettings {
  const settings = parseSettings(LOCAL_SETTINGS, env, place);
  const logger = processLogger();
  for (const ignored of ignoredSettings([LOCAL_SETTINGS], env, place)) logger.warn("setting ignored", { ...ignored });
  return settings;
}

