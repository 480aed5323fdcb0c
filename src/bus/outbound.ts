/**
 * The one door for requests to URLs a store owner or operator writes down: automations'
 * webhook reactions and poll triggers, remote handlers' url targets. Without it, an owner
 * could make the dispatcher call services on its own machine or network (server-side
 * request forgery) and read the answers back as polled events.
 *
 * The policy: a URL is allowed when it is https, carries no credentials (`user:pass@`),
 * and every address its host is or resolves to is public (src/bus/outbound-addresses.ts);
 * `localhost` and `*.localhost` never are. The database applies the same rule when a URL is
 * saved (feyxa.outbound_url_refusal, supabase/schemas/bus/outbound.sql). The allow-list (FEYXA_OUTBOUND_ALLOW, comma-separated `host`, `host:port` or
 * CIDR; empty by default) names the exceptions for development and tests, and plain http
 * is fine to what it allows. Redirects are never followed (every request goes out with
 * `redirect: "manual"`), so a 3xx is an answer, never a second, unchecked request.
 *
 * DNS is the runtime's: the adapters inject `resolve` (node:dns/promises lookup, in Node
 * and Deno alike); with none, a host name cannot be checked and is refused. The check and
 * the connection resolve separately, so a name whose DNS answer changes in between (DNS
 * rebinding) can still slip through: fetch offers no way to pin the checked address.
 */
import { NonRetriableError } from "./errors.ts";
import type { Queryable } from "./types.ts";
import { type Address, formatAddress, inRange, nonPublicRange, parseIP, parseRange, type Range } from "./outbound-addresses.ts";

/** Every address a host name resolves to (A and AAAA). */
export type Resolver = (host: string) => Promise<string[]>;

export type AllowRule = { kind: "range"; range: Range } | { kind: "host"; host: string; port?: string };

export interface OutboundPolicy {
  allow: readonly AllowRule[];
  resolve?: Resolver;
}

/** Allows no exception and resolves no name: https to public IP literals only. */
export const STRICT_OUTBOUND: OutboundPolicy = { allow: [] };

/** Retrying cannot make a refused address allowed: the run goes to the dead letters. */
export class OutboundRefusedError extends NonRetriableError {
  override name = "OutboundRefusedError";
}

/** The policy of a process, from its environment (FEYXA_OUTBOUND_ALLOW) and its runtime's resolver. */
export function outboundPolicy(env: Record<string, string | undefined>, resolve?: Resolver): OutboundPolicy {
  return { allow: parseAllowList(env.FEYXA_OUTBOUND_ALLOW), resolve };
}

/** `127.0.0.1:4000, localhost, 10.0.0.0/8, [::1]:8080` as rules; a malformed entry is a configuration error. */
export function parseAllowList(text: string | undefined): AllowRule[] {
  return (text ?? "").split(",").map((entry) => entry.trim()).filter(Boolean).map((entry) => {
    if (entry.includes("/")) {
      const range = parseRange(entry);
      if (!range) throw new Error(`FEYXA_OUTBOUND_ALLOW: "${entry}" is not a CIDR range`);
      return { kind: "range", range };
    }
    const parts = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
    const host = parts && hostnameOf(`http://${parts[1]}/`);
    if (!parts || !host) throw new Error(`FEYXA_OUTBOUND_ALLOW: "${entry}" is not a host, host:port or CIDR range`);
    return { kind: "host", host, ...(parts[2] ? { port: String(Number(parts[2])) } : {}) };
  });
}

/** Resolves when `url` may be requested; throws OutboundRefusedError naming the refused host or address. */
export async function checkOutbound(url: string, policy: OutboundPolicy, signal?: AbortSignal): Promise<void> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw refused("not a valid URL");
  }
  if (target.protocol !== "https:" && target.protocol !== "http:") throw refused(`${target.protocol} is neither https nor http`);
  if (target.username || target.password || AUTHORITY.exec(url)?.[1].includes("@")) {
    throw refused("the URL carries credentials (user:password@): keep secrets out of URLs");
  }
  const host = target.hostname.replace(/\.$/, "");
  const port = target.port || (target.protocol === "https:" ? "443" : "80");
  if (policy.allow.some((r) => r.kind === "host" && r.host === host && (!r.port || r.port === port))) return;

  const literal = parseIP(host);
  if (!literal && (host === "localhost" || host.endsWith(".localhost"))) throw refused(`${host} names this machine (loopback)`);
  const addresses = literal ? [literal] : await resolveAll(host, policy.resolve, signal);
  const allowed = (a: Address) => policy.allow.some((r) => r.kind === "range" && inRange(a, r.range));
  for (const address of addresses) {
    const why = allowed(address) ? undefined : nonPublicRange(address);
    if (why) throw refused(`${literal ? host : `${host} resolves to ${formatAddress(address)}`}, a ${why} address`);
  }
  if (target.protocol === "http:" && !addresses.every(allowed)) throw refused(`plain http to ${host}: use https`);
}

/** The authority of a URL as written (an empty userinfo, `https://@host/`, leaves no trace in URL.username). */
const AUTHORITY = /^\s*[a-z][a-z0-9+.-]*:[/\\]*([^/?#\\]*)/i;

/** fetch, once checkOutbound allows the URL; redirects are answers, never followed. */
export async function outboundFetch(url: string, init: RequestInit, policy: OutboundPolicy): Promise<Response> {
  await checkOutbound(url, policy, init.signal ?? undefined);
  return await fetch(url, { ...init, redirect: "manual" });
}

async function resolveAll(host: string, resolve: Resolver | undefined, signal?: AbortSignal): Promise<Address[]> {
  if (!resolve) throw refused(`cannot check ${host}: no DNS resolver is configured`);
  let answers: string[];
  try {
    answers = await abortable(resolve(host), signal);
  } catch (thrown) {
    // Retriable: a name that does not resolve now may tomorrow.
    throw new Error(`cannot resolve ${host}: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
  }
  if (!answers.length) throw new Error(`cannot resolve ${host}: no address`);
  return answers.map((text) => {
    const address = parseIP(text);
    if (!address) throw refused(`${host} resolves to "${text.slice(0, 60)}", not an IP address`);
    return address;
  });
}

function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  return Promise.race([promise, new Promise<never>((_, reject) => {
    if (signal.aborted) reject(new Error("aborted"));
    signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
  })]);
}

function hostnameOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/\.$/, "") || undefined;
  } catch {
    return undefined;
  }
}

const refused = (reason: string) =>
  new OutboundRefusedError(`outbound request refused: ${reason} (only public addresses; FEYXA_OUTBOUND_ALLOW lists exceptions)`);

/**
 * Makes the database's allow-list (event_bus_settings.outbound_allow, which decides what
 * URLs may be saved) the given entries, as the process's FEYXA_OUTBOUND_ALLOW decides what
 * may be called: a local setup keeps the two in step with one variable.
 */
export async function saveOutboundAllow(sql: Queryable, entries: readonly string[]): Promise<void> {
  await sql`update feyxa.event_bus_settings set outbound_allow = ${[...entries]}`;
}
