/**
 * npm's postinstall: guards postgres.js's deferred write against a closed socket.
 *
 * postgres.js 3.4.9 defers a small write with setImmediate; when the connection's socket
 * closes before it fires, `socket.write` on null throws where no caller can catch it and
 * the whole process dies (porsager/postgres#1066, #1154, #1208; the fixes proposed in
 * #1168, #1176 and #1209 are not released). A database outage is exactly when that
 * happens. The guard is #1209's: the buffered write is dropped and the connection's
 * queries are refused with CONNECTION_CLOSED, which the functions answer 503.
 * tests/local/postgres-patch.test.ts holds it. Idempotent; says so and does nothing once
 * an upstream release no longer has the unguarded line. (The Edge Functions import
 * postgres from the registry, unpatched: docs/reliability.md says what that means there.)
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const MARK = "// feyxa: closed-socket guard";
const UNGUARDED = "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n";
const GUARDED = `  function nextWrite(fn) {
    if (!socket) { ${MARK} (porsager/postgres#1208)
      chunk = nextWriteTimer = null
      error(Errors.connection('CONNECTION_CLOSED', options))
      return false
    }
    const x = socket.write(chunk, fn)
`;

const root = new URL("../node_modules/postgres/", import.meta.url).pathname;
for (const build of ["src", "cjs/src", "cf/src"]) {
  const file = `${root}${build}/connection.js`;
  if (!existsSync(file)) continue;
  const text = readFileSync(file, "utf8");
  if (text.includes(MARK)) continue;
  if (!text.includes(UNGUARDED)) {
    console.log(`patch-postgres: ${build}/connection.js has no unguarded nextWrite (fixed upstream?); left as it is`);
    continue;
  }
  writeFileSync(file, text.replace(UNGUARDED, GUARDED));
  console.log(`patch-postgres: guarded nextWrite in postgres/${build}/connection.js`);
}
