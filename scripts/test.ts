/**
 * `npm test`: every part of the suite, the ones that can overlap at once, so that the one
 * command a developer runs is also the whole of CI and finishes in minutes on two cores:
 *
 *   typecheck   tsc --noEmit over src, tests, scripts, web, bench
 *   vitest      the vitest suite on PostgreSQL 17 (vitest.config.ts)
 *   deno        the Edge Functions as they deploy, under Deno (scripts/deno-test.ts)
 *   pg15        the PostgreSQL 15 tier (scripts/test-pg15.ts; it says why when it skips)
 *
 * Most of the suite's time is waiting (on a lease to run out, a server to restart, a
 * browser to paint), so the parts run side by side. Each part's output is printed whole
 * when it ends, a line every 30 s says what is still running, and the run ends with a line
 * per part: its result and its time. One part's failure fails the run; the others finish.
 * `npm test -- vitest deno` runs only the parts named.
 */
import { spawn } from "node:child_process";

interface Part { name: string; command: string; args: string[] }

const bin = (name: string) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
const PARTS: Part[] = [
  { name: "typecheck", command: bin("tsc"), args: ["--noEmit"] },
  { name: "vitest", command: bin("vitest"), args: ["run"] },
  { name: "deno", command: bin("tsx"), args: ["scripts/deno-test.ts"] },
  { name: "pg15", command: bin("tsx"), args: ["scripts/test-pg15.ts"] },
];

interface Outcome { name: string; code: number; seconds: number }

function runPart(part: Part): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(part.command, part.args, { stdio: ["ignore", "pipe", "pipe"] });
    const output: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk));
    const finish = (code: number) => {
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(`\n──── ${part.name}: ${code === 0 ? "passed" : `failed (exit ${code})`} in ${seconds.toFixed(1)} s ────\n`);
      process.stdout.write(Buffer.concat(output));
      resolve({ name: part.name, code, seconds });
    };
    child.on("error", (error) => {
      output.push(Buffer.from(`${error}\n`));
      finish(1);
    });
    child.on("close", (code) => finish(code ?? 1));
  });
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !PARTS.some((p) => p.name === name));
if (unknown.length) {
  console.error(`unknown part(s): ${unknown.join(", ")}; the parts are ${PARTS.map((p) => p.name).join(", ")}`);
  process.exit(2);
}
const parts = wanted.length ? PARTS.filter((p) => wanted.includes(p.name)) : PARTS;
const started = performance.now();
const running = new Set(parts.map((p) => p.name));
const heartbeat = setInterval(() => {
  console.log(`… ${Math.round((performance.now() - started) / 1000)} s, running: ${[...running].join(", ")}`);
}, 30_000);
const outcomes = await Promise.all(parts.map(async (part) => {
  const outcome = await runPart(part);
  running.delete(part.name);
  return outcome;
}));
clearInterval(heartbeat);

console.log(`\nnpm test, ${((performance.now() - started) / 1000).toFixed(1)} s:`);
for (const o of outcomes) console.log(`  ${o.code === 0 ? "passed" : "FAILED"}  ${o.name.padEnd(10)} ${o.seconds.toFixed(1)} s`);
process.exit(outcomes.every((o) => o.code === 0) ? 0 : 1);
