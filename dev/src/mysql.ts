import { execFile } from "node:child_process";
import { access, constants, mkdir } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { createConnection } from "mysql2/promise";

/** Where the stack's database comes from. */
export type DatabaseChoice =
  /** DATABASE_URL was set: use it as is. */
  | { kind: "url"; url: string; description: string }
  /** A MySQL/MariaDB at 127.0.0.1:3306 answered as root without a password. */
  | { kind: "shared"; url: string; description: string }
  /** Start our own mariadbd with its data under the data dir. */
  | {
      kind: "private";
      url: string;
      description: string;
      mariadbd: string;
      installDb: string;
      dataDir: string;
      socket: string;
      port: number;
    }
  /** Nothing usable: `message` says what to install or set. */
  | { kind: "missing"; message: string };

/** Options of {@link chooseDatabase} (all from the stack's config). */
export interface ChooseDatabaseOptions {
  databaseUrl?: string | undefined;
  mode: "auto" | "private";
  /** The stack's data dir; the private instance lives in `<dataDir>/mysql`. */
  dataDir: string;
  privatePort: number;
  /** The PATH to search for mariadbd (plus the usual sbin folders). */
  path: string;
}

/** The shared server the stack tries first, and the database it uses there. */
export const sharedServer = { host: "127.0.0.1", port: 3306, database: "ctrl" };

/**
 * Decides where MySQL comes from: DATABASE_URL, else a server at 127.0.0.1:3306 that lets root in,
 * else a private mariadbd (if one is installed), else an explanation of what to install.
 */
export async function chooseDatabase(options: ChooseDatabaseOptions): Promise<DatabaseChoice> {
  if (options.databaseUrl) return { kind: "url", url: options.databaseUrl, description: "the database in DATABASE_URL" };
  if (options.mode === "auto" && (await answersAsRoot(sharedServer.host, sharedServer.port))) {
    return {
      kind: "shared",
      url: `mysql://root@${sharedServer.host}:${sharedServer.port}/${sharedServer.database}`,
      description: `the server already running at ${sharedServer.host}:${sharedServer.port}`,
    };
  }
  const mariadbd = await findBinary(["mariadbd"], options.path);
  const installDb = await findBinary(["mariadb-install-db", "mysql_install_db"], options.path);
  if (!mariadbd || !installDb) {
    return {
      kind: "missing",
      message: [
        `No MySQL to use: DATABASE_URL is not set, nothing at ${sharedServer.host}:${sharedServer.port} lets root in without a password,`,
        "and MariaDB is not installed (so a private one cannot be started under .data/mysql).",
        "Do one of these, then run `pnpm dev` again:",
        "  • install MariaDB (Debian/Ubuntu):   sudo apt-get install mariadb-server     (macOS: brew install mariadb)",
        "  • or point at a server you have:     DATABASE_URL=mysql://user:password@host:3306/ctrl pnpm dev",
      ].join("\n"),
    };
  }
  const dataDir = join(options.dataDir, "mysql");
  return {
    kind: "private",
    url: `mysql://root@127.0.0.1:${options.privatePort}/ctrl`,
    description: `a private mariadbd on 127.0.0.1:${options.privatePort} (data in ${dataDir})`,
    mariadbd,
    installDb,
    dataDir,
    socket: socketPath(options.dataDir),
    port: options.privatePort,
  };
}

/** True when `host:port` accepts root without a password and answers a query. */
export async function answersAsRoot(host: string, port: number, timeoutMs = 1_500): Promise<boolean> {
  try {
    const conn = await createConnection({ host, port, user: "root", connectTimeout: timeoutMs });
    try {
      await conn.query("SELECT 1");
      return true;
    } finally {
      await conn.end().catch(() => undefined);
    }
  } catch {
    return false;
  }
}

/** Initialises the private data dir once (`mariadb-install-db`), streaming its output to `log`. */
export async function initPrivateDataDir(choice: Extract<DatabaseChoice, { kind: "private" }>, log: (line: string) => void): Promise<void> {
  try {
    await access(join(choice.dataDir, "mysql"), constants.F_OK);
    return; // initialised by an earlier run
  } catch {
    // first run
  }
  await mkdir(choice.dataDir, { recursive: true });
  log(`initialising ${choice.dataDir} (first run only)`);
  const args = [
    "--no-defaults",
    `--datadir=${choice.dataDir}`,
    "--auth-root-authentication-method=normal",
    "--skip-test-db",
    ...rootUserArgs(),
  ];
  await new Promise<void>((resolve, reject) => {
    execFile(choice.installDb, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${choice.installDb} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve();
    });
  });
}

/** The mariadbd command line of the private instance (flags verified on these machines: --no-defaults keeps it away from /etc/mysql). */
export function mariadbdArgs(choice: Extract<DatabaseChoice, { kind: "private" }>): string[] {
  return [
    "--no-defaults",
    `--datadir=${choice.dataDir}`,
    `--port=${choice.port}`,
    "--bind-address=127.0.0.1",
    `--socket=${choice.socket}`,
    `--pid-file=${join(choice.dataDir, "mariadbd.pid")}`,
    ...rootUserArgs(),
  ];
}

// mariadbd refuses to run as root unless told to; as any other user the flag only warns, so omit it.
function rootUserArgs(): string[] {
  return process.getuid?.() === 0 ? ["--user=root"] : [];
}

// Unix socket paths are limited to ~108 bytes: fall back to a short path in the temp dir.
function socketPath(dataDir: string): string {
  const preferred = join(dataDir, "mysqld.sock");
  if (Buffer.byteLength(preferred) < 100) return preferred;
  return join(tmpdir(), `ctrl-dev-${createHash("sha256").update(dataDir).digest("hex").slice(0, 12)}.sock`);
}

/** The first executable named one of `names` on `path` or in the usual sbin folders. */
export async function findBinary(names: string[], path: string): Promise<string | undefined> {
  const dirs = [
    ...path.split(delimiter).filter(Boolean),
    "/usr/sbin",
    "/usr/local/sbin",
    "/usr/bin",
    "/usr/local/bin",
    "/opt/homebrew/bin",
    "/opt/homebrew/sbin",
  ];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // keep looking
      }
    }
  }
  return undefined;
}
