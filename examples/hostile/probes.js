// Every escape a hostile tenant tries from inside its build or its running app. Each probe returns
// { escaped: boolean, detail }: `escaped` true means the sandbox failed. Targets (extra ports,
// paths, secrets that must stay invisible) come from ./targets.json when the deployer adds one.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";

const commonPorts = [7070, 7071, 8080, 9070, 9080, 3306, 9000, 7090];

function targets() {
  try {
    return JSON.parse(readFileSync(new URL("./targets.json", import.meta.url), "utf8"));
  } catch {
    return {};
  }
}

/**
 * Environments of other processes: a secret we were told about, or a control-plane variable
 * (tokens, keys, database URLs), in any environment we can read is a leak. (Our own build tool's
 * processes — npm, sh — differ from us in harmless ways, e.g. PATH, and are listed only.)
 */
const controlPlaneNames = /^(KRANE_|CTRL_API_|VAULT_|DATABASE_URL|MYSQL|S3_|AWS_|RESTATE_|FRONTLINE_|SENTINEL_|BUILD_)/;
function procEnviron(secrets) {
  const own = new Set(Object.entries(process.env).map(([k, v]) => `${k}=${v}`));
  const leaks = [];
  const differing = [];
  let visible = 0;
  for (const d of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    visible++;
    if (Number(d) === process.pid) continue;
    try {
      const entries = readFileSync(`/proc/${d}/environ`, "utf8").split("\0").filter(Boolean);
      for (const e of entries) {
        const name = e.split("=")[0];
        if (controlPlaneNames.test(name) && !own.has(e)) leaks.push(`${d}:${name}`);
        else if (!own.has(e)) differing.push(`${d}:${name}`);
      }
      for (const s of secrets) if (entries.some((e) => e.includes(s))) leaks.push(`${d}:secret`);
    } catch {
      /* unreadable: good */
    }
  }
  return { escaped: leaks.length > 0, detail: { visible, leaks: leaks.slice(0, 20), differing: differing.slice(0, 20) } };
}

/** Other processes: in its own pid namespace only its own few are visible. */
function processes() {
  const names = [];
  for (const d of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      names.push(readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0")[0]);
    } catch {
      /* gone */
    }
  }
  const controlPlane = names.filter((n) =>
    /krane|ctrl-api|ctrl-worker|restate|mariadb|mysqld|s3rver|vitest|frontline|sentinel|tsx/.test(n),
  );
  return { escaped: controlPlane.length > 0 || names.length > 40, detail: { count: names.length, controlPlane } };
}

function tryConnect(port, host = "127.0.0.1") {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1500, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

/** The control plane's ports on the host's loopback, and the internet. */
async function network(ports, ownPort) {
  const reached = [];
  for (const p of [...new Set([...commonPorts, ...ports])]) if (p !== ownPort && (await tryConnect(p))) reached.push(p);
  const internet = (await tryConnect(443, "1.1.1.1")) || (await tryConnect(443, "104.16.0.35"));
  return { escaped: reached.length > 0 || internet, detail: { tried: [...new Set([...commonPorts, ...ports])].length, reached, internet } };
}

/** Files outside its own directory: the agent's data, /root, the repository, shadow. */
function files(paths, secrets) {
  const read = [];
  for (const p of ["/etc/shadow", "/root", "/work", "/var/lib/mysql", "/proc/1/root/etc/shadow", ...paths]) {
    try {
      if (statSync(p).isDirectory()) {
        readdirSync(p);
      } else {
        const text = readFileSync(p, "utf8");
        if (secrets.length && !secrets.some((s) => text.includes(s)) && p.startsWith("/proc/")) continue;
      }
      read.push(p);
    } catch {
      /* refused or absent: good */
    }
  }
  return { escaped: read.length > 0, detail: { read } };
}

/** System directories (and its own artifact) must be read-only. */
function writes(appDir) {
  const wrote = [];
  for (const dir of ["/usr", "/usr/bin", "/etc", "/bin", "/lib", "/", appDir]) {
    const f = join(dir, `.hostile-${process.pid}`);
    try {
      writeFileSync(f, "x");
      wrote.push(dir);
      rmSync(f, { force: true });
    } catch {
      /* read-only: good */
    }
  }
  return { escaped: wrote.length > 0, detail: { wrote } };
}

/** A setuid file it creates must not be a way up: never root's, never honoured (nosuid). */
function setuid(writableDir) {
  const f = join(writableDir, `.suid-${process.pid}`);
  try {
    writeFileSync(f, "#!/bin/sh\nid -u\n");
    chmodSync(f, 0o4755);
    const st = statSync(f);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8");
    rmSync(f, { force: true });
    const rootSuid = st.uid === 0 && (st.mode & 0o4000) !== 0;
    return {
      escaped: rootSuid || process.getuid() === 0,
      detail: { uid: process.getuid(), fileUid: st.uid, setuidBit: (st.mode & 0o4000) !== 0, nosuidMounts: mounts.includes("nosuid") },
    };
  } catch (err) {
    return { escaped: process.getuid() === 0, detail: { uid: process.getuid(), error: err.code ?? String(err) } };
  }
}

/** A fork bomb: children beyond the process limit must be refused. */
function forkBomb(max = 3000) {
  return new Promise((resolve) => {
    const kids = [];
    let started = 0;
    let refused = 0;
    let n = 0;
    const finish = () => {
      for (const k of kids) k.kill("SIGKILL");
      resolve({ escaped: refused === 0, detail: { started, refused } });
    };
    const next = () => {
      if (n++ >= max || refused >= 20) return finish();
      let c;
      try {
        c = spawn("sleep", ["60"], { stdio: "ignore" });
      } catch {
        refused++;
        return setImmediate(next);
      }
      kids.push(c);
      c.once("spawn", () => {
        started++;
        next();
      });
      c.once("error", () => {
        refused++;
        next();
      });
    };
    next();
  });
}

/** Runs every probe; `where` is "build" or "app". */
export async function runProbes(
  where,
  { appDir = process.cwd(), writableDir = process.env.HOME ?? "/tmp", ownPort = Number(process.env.PORT ?? 0) } = {},
) {
  const t = targets();
  const secrets = (t.secrets ?? []).filter(Boolean);
  const out = {
    where,
    uid: process.getuid(),
    procEnviron: procEnviron(secrets),
    processes: processes(),
    network: await network(t.ports ?? [], ownPort),
    files: files(t.paths ?? [], secrets),
    writes: writes(appDir),
    setuid: setuid(writableDir),
    forkBomb: await forkBomb(),
  };
  out.escapedAny = Object.values(out).some((v) => v && typeof v === "object" && v.escaped === true);
  return out;
}

export function exists(p) {
  return existsSync(p);
}
