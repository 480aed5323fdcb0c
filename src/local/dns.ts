/**
 * The DNS lookup for the outbound guard (src/bus/outbound.ts): every address, A and AAAA.
 * node:dns, which Deno provides too: the Edge Functions' adapter (supabase/functions/_shared/serve.ts)
 * uses this same lookup.
 */
import { lookup } from "node:dns/promises";
import type { Resolver } from "../bus/index.ts";

export const resolveHost: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
