/** Does a payload match a trigger filter, and what does a reaction's template say for an event. */
import type { BusEvent } from "../../bus/index.ts";
import type { TriggerFilter } from "./schema.ts";

export function valueAt(payload: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((v, key) => (v && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined), payload);
}

export function matchesFilter(filter: TriggerFilter, payload: Record<string, unknown>): boolean {
  return Object.entries(filter).every(([path, condition]) => {
    const value = valueAt(payload, path);
    if (condition === null || typeof condition !== "object") return value === condition;
    if (condition.gte !== undefined && !(typeof value === "number" && value >= condition.gte)) return false;
    if (condition.lte !== undefined && !(typeof value === "number" && value <= condition.lte)) return false;
    if (condition.in !== undefined && !condition.in.includes(value as never)) return false;
    if (condition.contains !== undefined && !(typeof value === "string" && value.includes(condition.contains))) return false;
    return true;
  });
}

/** Fills {{event.type}}, {{event.aggregate_id}}, {{event.id}} and {{payload.<path>}}; unknown places become empty. */
export function fill(template: string, event: BusEvent): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, place: string) => {
    if (place === "event.type") return event.type;
    if (place === "event.id") return event.id;
    if (place === "event.aggregate_id") return event.aggregateId;
    if (place.startsWith("payload.")) {
      const value = valueAt(event.payload, place.slice("payload.".length));
      return value === undefined || value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
    }
    return "";
  });
}
