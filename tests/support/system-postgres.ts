/**
 * A throw-away cluster of a PostgreSQL installed on the machine (Debian's 15 at
 * /usr/lib/postgresql/15/bin), for the tier that must also pass on the older version
 * Supabase runs, and for the extensions (pg_net, pg_cron) built against it. Made as the
 * embedded one is: superuser supabase_admin, password auth on loopback; run as the OS
 * user postgres when the suite runs as root (PostgreSQL refuses root).
 */
import { spawn, spawnSync } from "node:child_process";
import { chmod, chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { shapeLikeHosted, SUPERUSER } from "../../src/local/supabase-shape.ts";

export const DEBIAN_PG15_BIN = "/usr/lib/postgresql/15/bin";

export interface SystemCluster {
  /** As supabase_admin, database postgres. */
  superuserUrl: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export function hasSystemPostgres(binDir = DEBIAN_PG15_BIN): boolean {
  return existsSync(join(binDir, "initdb")) && existsSync(join(binDir, "pg_ctl"));
}

function asPostgresUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
  return { uid: id("-u"), gid: id("-g") };
}

function run(command: string, args: string[], owner?: { uid: number; gid: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], ...(owner ?? {}) });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args[0] ?? ""} exited ${code}: ${stderr.trim()}`))));
  });
}

/**
 * initdb + pg_ctl start on `port`, with extra server settings (`shared_preload_libraries`, …);
 * the maintenance database shaped like a hosted project's, as the embedded server's is.
 */
export async function startSystemPostgres(port: number, settings: Record<string, string> = {}, binDir = DEBIAN_PG15_BIN): Promise<SystemCluster> {
  const owner = asPostgresUser();
  const scratch = await mkdtemp(join(tmpdir(), "feyxa-pg-"));
  await chmod(scratch, 0o755);
  if (owner) await chown(scratch, owner.uid, owner.gid);
  const dataDir = join(scratch, "data");
  const pwfile = join(scratch, "pw");
  await writeFile(pwfile, SUPERUSER);
  if (owner) await chown(pwfile, owner.uid, owner.gid);
  await run(join(binDir, "initdb"), ["-D", dataDir, "-U", SUPERUSER, `--pwfile=${pwfile}`, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C"], owner);
  const options = Object.entries({ max_connections: "200", listen_addresses: "127.0.0.1", unix_socket_directories: scratch, ...settings })
    .map(([k, v]) => `-c ${k}=${v.includes(" ") || v.includes(",") ? `'${v}'` : v}`).join(" ");
  await run(join(binDir, "pg_ctl"), ["start", "-w", "-t", "60", "-D", dataDir, "-l", join(scratch, "log"), "-o", `-p ${port} ${options}`], owner);
  const cluster: SystemCluster = {
    superuserUrl: `postgres://${SUPERUSER}:${SUPERUSER}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async stop() {
      await run(join(binDir, "pg_ctl"), ["stop", "-m", "fast", "-w", "-D", dataDir], owner).catch(() => {});
      await rm(scratch, { recursive: true, force: true });
    },
  };
  try {
    await shapeLikeHosted(cluster.superuserUrl, "postgres");
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
