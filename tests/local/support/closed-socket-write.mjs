// Run by tests/local/postgres-patch.test.ts in a process of its own: a reserved connection
// whose backend is terminated, then written to. Unpatched postgres.js 3.4.9 throws from a
// setImmediate (socket.write on null) and the process dies; patched, the query is refused.
import postgres from "postgres";

const url = process.argv[2];
const sql = postgres(url, { max: 2, onnotice: () => {} });
const reserved = await sql.reserve();
const [{ pid }] = await reserved`select pg_backend_pid() as pid`;
await sql`select pg_terminate_backend(${pid})`;
await new Promise((resolve) => setTimeout(resolve, 300));
const outcomes = [];
for (let i = 0; i < 3; i++) {
  outcomes.push(await reserved`select 1`.then(() => "ok", (error) => error.code ?? String(error)));
}
console.log(JSON.stringify(outcomes));
process.exit(0);
