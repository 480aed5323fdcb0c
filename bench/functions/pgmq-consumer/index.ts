/**
 * The peer of the Supabase path (bench/workloads/supabase-path.ts): a pgmq consumer as
 * Supabase's guide "Consuming Supabase Queue Messages with Edge Functions" writes one, an
 * Edge Function that a pg_cron job calls through pg_net, which reads messages and removes
 * each one it processed. Tuned past the guide's five messages a call: each call reads
 * batches of `batch` from every queue in `queues` (pgmq.read), runs the no-op handler on each
 * message, and archives the batch (pgmq.archive), until the queues are empty or `budget_ms`
 * has passed. Over SUPABASE_DB_URL with postgres.js (no prepared statements, as through
 * Supabase's pooler), where the guide goes through PostgREST (pgmq_public.read and .delete).
 */
import postgres from "postgres";

interface Body {
  queues: string[];
  batch: number;
  budget_ms: number;
}

let sql: ReturnType<typeof postgres> | undefined;
const handle = async (_message: unknown) => {};

async function consume({ queues, batch, budget_ms }: Body): Promise<number> {
  sql ??= postgres(Deno.env.get("SUPABASE_DB_URL")!, { max: 4, prepare: false, onnotice: () => {} });
  const until = performance.now() + budget_ms;
  let processed = 0;
  for (let found = true; found && performance.now() < until;) {
    found = false;
    for (const queue of queues) {
      const messages = await sql<{ msg_id: string; message: unknown }[]>`select msg_id, message from pgmq.read(${queue}, 30, ${batch})`;
      if (messages.length === 0) continue;
      found = true;
      await Promise.all(messages.map((m) => handle(m.message)));
      await sql`select pgmq.archive(${queue}, ${messages.map((m) => m.msg_id)}::bigint[])`;
      processed += messages.length;
    }
  }
  return processed;
}

Deno.serve({ port: Number(Deno.env.get("PORT") ?? 8000) }, async (request) => {
  const key = JSON.parse(Deno.env.get("SUPABASE_SECRET_KEYS") ?? "{}").default;
  if (!key || request.headers.get("authorization") !== `Bearer ${key}`) return Response.json({ error: "unauthorized" }, { status: 401 });
  if (request.method !== "POST") return new Response(null, { status: 204 });
  return Response.json({ processed: await consume(await request.json()) });
});
