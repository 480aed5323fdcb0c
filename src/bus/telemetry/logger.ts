/**
 * Structured logs: one JSON line per notable event of a process (start, stop, claim errors
 * and recoveries, handler failures, leases lost, listener reconnects), with the event id,
 * the handler and the trace id where there are ones, at a level set by FEYXA_LOG_LEVEL.
 * Every string is passed through redactSecrets, as the console lines were: a log line is
 * read by more people than the database is.
 */
import { redactSecrets } from "../errors.ts";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** FEYXA_LOG_LEVEL's value as a level (default info); an unknown value is an error naming the variable. */
export function logLevelFrom(value: string | undefined, name = "FEYXA_LOG_LEVEL"): LogLevel {
  const level = (value ?? "").trim().toLowerCase() || "info";
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`${name}: one of ${LOG_LEVELS.join(", ")}, not ${JSON.stringify(value)}`);
  return level as LogLevel;
}

export interface JsonLoggerOptions {
  level?: LogLevel;
  /** Where each line goes (default: console.log, one line each). */
  write?: (line: string) => void;
  /** Fields on every line (the process: "dispatcher", its worker id). */
  base?: LogFields;
}

export function jsonLogger(options: JsonLoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const threshold = LOG_LEVELS.indexOf(level);
  const write = options.write ?? ((line: string) => console.log(line));
  const line = (at: LogLevel) => (msg: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(at) < threshold) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level: at, msg: redactSecrets(msg) };
    for (const [key, value] of Object.entries({ ...options.base, ...fields })) {
      if (value !== undefined) entry[key] = typeof value === "string" ? redactSecrets(value) : value;
    }
    write(JSON.stringify(entry));
  };
  return { level, debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") };
}

/** An error as a log field: its message (redacted by the logger), with its name when it says something. */
export function errorField(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name && error.name !== "Error" ? `${error.name}: ${error.message}` : error.message;
}
