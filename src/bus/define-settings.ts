/**
 * How a setting is declared and read: its kind (a zod schema over the variable's text, and
 * the range it allows in words), its default, what it means and where it applies. The bus's
 * list is settings.ts; an application declares its own the same way (the marketplace's:
 * src/marketplace/settings.ts), and docs/settings.md is generated from both
 * (scripts/gen-settings.ts).
 *
 * An environment is a plain record (Node's process.env, Deno.env.toObject()): parsed once
 * where a process starts (and where an Edge Function builds its bus), a value out of range
 * refused with a message naming the variable and its range; an unset or empty variable takes
 * the default. A function reads the few settings it needs per request (readSetting), as edge
 * runtimes hand the environment in.
 */
import { z } from "zod";
import { HttpError } from "./errors.ts";

export type Env = Record<string, string | undefined>;

/** Where a setting can apply: the three ways the bus runs. */
export const PLACES = { start: "npm start", dispatcher: "npm run dispatcher", edge: "Edge Functions" } as const;
export type Place = keyof typeof PLACES;
export const EVERYWHERE: readonly Place[] = ["start", "dispatcher", "edge"];

/** What a variable's text may be: its schema, and the same range in words for messages and the docs. */
export interface Kind<T> {
  readonly schema: z.ZodType<T, string>;
  readonly range: string;
}

export interface Setting<T = unknown> {
  readonly kind: Kind<T>;
  /** The value when the variable is unset or empty. */
  readonly default?: T;
  /** A default of its own where one place differs. */
  readonly byPlace?: Partial<Record<Place, T>>;
  /** The default in words, where it is not a plain value (computed at start, or absent). */
  readonly defaultText?: string;
  readonly meaning: string;
  readonly where: readonly Place[];
  /** Set by Supabase for Edge Functions (not by `supabase secrets set`, which refuses SUPABASE_ names). */
  readonly platform?: boolean;
  /** Never repeated in a message. */
  readonly secret?: boolean;
}

/** Settings by variable name; a name with `<…>` is a family (WEBHOOK_SECRET_<SOURCE>), read by its full name where used. */
export type Declarations = Readonly<Record<string, Setting<never> | Setting<unknown>>>;
type ValueOf<S> = S extends { kind: Kind<infer T> } ? (S extends { default: unknown } ? T : T | undefined) : never;
export type Settings<D extends Declarations> = { readonly [K in keyof D as K extends `${string}<${string}` ? never : K]: ValueOf<D[K]> };

export function defineSettings<const D extends Declarations>(declarations: D): D {
  return Object.freeze(declarations);
}

const thousands = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/** A whole number in [min, max]; `unit` follows the range in words. */
export function whole(min: number, max: number, unit = ""): Kind<number> {
  return {
    schema: z.string().trim().regex(/^\d+$/).transform(Number).pipe(z.number().min(min).max(max)),
    range: `a whole number from ${thousands(min)} to ${thousands(max)}${unit}`,
  };
}

export const millis = (min: number, max: number) => whole(min, max, " (ms)");
export const port: Kind<number> = whole(1, 65_535);

export function oneOf<const V extends readonly [string, ...string[]]>(values: V): Kind<V[number]> {
  return { schema: z.string().trim().toLowerCase().pipe(z.enum(values)), range: `one of ${values.join(", ")}` };
}

export const onOff: Kind<boolean> = {
  schema: z.string().trim().toLowerCase().pipe(z.enum(["on", "off", "true", "false", "1", "0"])).transform((v) => ["on", "true", "1"].includes(v)),
  range: "on or off (true/false, 1/0)",
};

/** Any text (trimmed); `range` says what it should hold. */
export const text = (range = "any text"): Kind<string> => ({ schema: z.string().trim(), range });

/** Text that `check` accepts (it throws, saying why, otherwise). */
export function checked(range: string, check: (text: string) => unknown): Kind<string> {
  return {
    schema: z.string().trim().superRefine((value, ctx) => {
      try {
        check(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
      }
    }),
    range,
  };
}

export const url = (protocols: RegExp, range: string) => checked(range, (value) => {
  if (!protocols.test(new URL(value).protocol)) throw new Error("another protocol");
});

/** Every value refused, one message each; a 500 when a function meets it (a misconfiguration, not the caller's fault). */
export class SettingsError extends HttpError {
  override name = "SettingsError";
  constructor(readonly problems: readonly string[]) {
    super(500, "misconfigured", problems.join("; "));
  }
}

const unset = (raw: string | undefined): raw is undefined => raw === undefined || raw.trim() === "";

function parseOne(name: string, setting: Setting<unknown>, raw: string): { value: unknown } | { problem: string } {
  const parsed = setting.kind.schema.safeParse(raw);
  if (parsed.success) return { value: parsed.data };
  const custom = parsed.error.issues.find((issue) => issue.code === "custom");
  const got = setting.secret ? "a value that is not" : `got ${JSON.stringify(raw)}${custom ? `: ${custom.message}` : ""}`;
  return { problem: `${name} must be ${setting.kind.range} (${got})` };
}

const defaultOf = (setting: Setting<unknown>, place?: Place) => (place && setting.byPlace?.[place]) ?? setting.default;

/** Every declared setting's value from `env` (defaults for `place`); throws SettingsError naming each bad one. */
export function parseSettings<const D extends Declarations>(declarations: D, env: Env, place?: Place): Settings<D> {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, setting] of Object.entries(declarations) as [string, Setting<unknown>][]) {
    if (name.includes("<")) continue;
    const raw = env[name];
    if (unset(raw)) {
      values[name] = defaultOf(setting, place);
      continue;
    }
    const read = parseOne(name, setting, raw);
    if ("problem" in read) problems.push(read.problem);
    else values[name] = read.value;
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return Object.freeze(values) as Settings<D>;
}

/** One setting's value from `env` (its default when unset): what a function reads per request. */
export function readSetting<D extends Declarations, K extends keyof Settings<D> & string>(declarations: D, env: Env, name: K): Settings<D>[K] {
  const setting = declarations[name] as Setting<unknown>;
  const raw = env[name];
  if (unset(raw)) return defaultOf(setting) as Settings<D>[K];
  const read = parseOne(name, setting, raw);
  if ("problem" in read) throw new SettingsError([read.problem]);
  return read.value as Settings<D>[K];
}

/** Whether the variable is set (not empty): a caller's own default applies otherwise. */
export const isSet = (env: Env, name: string) => !unset(env[name]);

/** A variable a process does not read where it runs: said at start, never silently ignored. */
export interface IgnoredSetting {
  setting: string;
  reason: string;
}

/**
 * What a process must say at start rather than ignore: each variable set in `env` that is
 * declared but does not apply to `place`, and each FEYXA_ variable no list declares (a typo,
 * or a setting that is gone).
 */
export function ignoredSettings(lists: readonly Declarations[], env: Env, place: Place): IgnoredSetting[] {
  const declared = lists.flatMap((list) => Object.entries(list) as [string, Setting<unknown>][]);
  const family = (name: string) => name.includes("<") && name.slice(0, name.indexOf("<"));
  const declaration = (variable: string) => declared.find(([name]) => name === variable || (family(name) && variable.startsWith(family(name) as string)));
  const ignored: IgnoredSetting[] = [];
  for (const setting of Object.keys(env).filter((v) => isSet(env, v)).sort()) {
    const where = declaration(setting)?.[1].where;
    if (where && !where.includes(place)) {
      ignored.push({ setting, reason: `applies to ${where.map((p) => PLACES[p]).join(", ")}, not to ${PLACES[place]}` });
    } else if (!where && setting.startsWith("FEYXA_")) {
      ignored.push({ setting, reason: "not a setting (docs/settings.md lists them)" });
    }
  }
  return ignored;
}
