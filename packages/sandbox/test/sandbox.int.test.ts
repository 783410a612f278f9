// Long because each isolation property is a short case over one shared sandbox set-up.
/**
 * What the sandbox guarantees, proven with real bwrap processes: its own pid namespace (the host's
 * processes and their environments are invisible), an unprivileged uid, read-only system
 * directories and nothing else of the host's file system, no network but its own loopback, exactly
 * the environment it was given, process and file-size limits, a port reachable from the host only
 * through the bridge, and a build egress that reaches only allowed public hosts.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "@ctrl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeListener,
  findSandboxTools,
  installBridge,
  isForbiddenAddress,
  listenOnHost,
  makeTraversable,
  makeWorkloadDir,
  sandboxArgv,
  startEgressProxy,
  workloadUid,
  type SandboxPolicy,
  type SandboxTools,
} from "../src/index.js";

let tools: SandboxTools;
let root: string;
let appDir: string;
let bridge: string;
let hostServer: Server;
let hostPort = 0;
const uid = workloadUid(90_000 + (process.pid % 9_000));

beforeAll(async () => {
  tools = findSandboxTools("TEST_SANDBOX");
  root = await mkdtemp(join(tmpdir(), "ctrl-sandbox-test-"));
  await makeTraversable(root);
  appDir = join(root, "app");
  await makeWorkloadDir(appDir, uid, uid);
  bridge = await installBridge(join(root, "bin"));
  // A "control plane" port on the host that sandboxed code must not reach.
  hostServer = createServer((s) => s.end("control plane\n"));
  await new Promise<void>((ok) => hostServer.listen(0, "127.0.0.1", ok));
  hostPort = (hostServer.address() as { port: number }).port;
});

afterAll(async () => {
  hostServer?.close();
  await rm(root, { recursive: true, force: true });
});

function policy(extra: Partial<SandboxPolicy> = {}): SandboxPolicy {
  return {
    uid,
    gid: uid,
    mounts: [{ host: appDir, sandbox: "/app", writable: true }],
    cwd: "/app",
    network: "none",
    tmpBytes: 16 << 20,
    limits: { processes: 32, fileSizeBytes: 1 << 20, openFiles: 256 },
    bridgeScript: bridge,
    ...extra,
  };
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  command: string[],
  env: Record<string, string> = { PATH: "/usr/bin:/bin" },
  extra: Partial<SandboxPolicy> = {},
  fds: number[] = [],
): Promise<Ran> {
  const argv = sandboxArgv(tools, policy(extra), command);
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe", ...fds] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const sh = (script: string) => ["/bin/sh", "-c", script];

/** Processes of the test's workload uid still alive on the host. */
async function leftovers(): Promise<number[]> {
  const out: number[] = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const st = await stat(`/proc/${d}`).catch(() => undefined);
    const status = await readFile(`/proc/${d}/stat`, "utf8").catch(() => "");
    if (st?.uid === uid && !/\) [ZX] /.test(status)) out.push(Number(d));
  }
  return out;
}

describe("sandbox", () => {
  it("refuses to start without bwrap, saying how to install it and naming the opt-out", () => {
    expect(() => findSandboxTools("KRANE_SANDBOX=none", "/nonexistent")).toThrow(
      /bubblewrap \(bwrap\) is not installed.*apt-get install -y bubblewrap.*KRANE_SANDBOX=none/,
    );
  });

  it("passes the command's exit code out", async () => {
    expect((await run(sh("exit 7"))).code).toBe(7);
    expect((await run(["/nonexistent"])).code).not.toBe(0);
  });

  it("has its own pid namespace: only its own processes, the host's /proc/<pid>/environ unreadable", async () => {
    const r = await run(
      sh(`echo count:$(ls /proc | grep -E '^[0-9]+$' | wc -l); echo self:$$; cat /proc/${process.pid}/environ 2>&1 | head -c 300`),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(Number(/count:(\d+)/.exec(r.stdout)?.[1])).toBeLessThanOrEqual(8); // bwrap's init, sh, its subshell, ls/grep/wc: never the host's hundreds
    expect(r.stdout).toContain("self:2"); // pid 1 is bwrap's reaper in a fresh pid namespace
    expect(r.stdout).toMatch(new RegExp(`/proc/${process.pid}/environ: No such file or directory`));
  });

  it("runs as the workload's unprivileged uid/gid with no supplementary groups, and without capabilities", async () => {
    const r = await run(sh("id -u; id -g; id -G; grep CapEff /proc/self/status"));
    expect(r.code, r.stderr).toBe(0);
    const [u, g, groups, caps] = r.stdout.trim().split("\n");
    expect(Number(u)).toBe(uid);
    expect(Number(g)).toBe(uid);
    expect(groups).toBe(String(uid));
    expect(caps).toMatch(/CapEff:\s+0+$/);
    // …and it cannot make itself a user namespace where it would have them.
    const nested = await run(sh("unshare --user --map-root-user id -u 2>&1; echo code:$?"));
    expect(nested.stdout).toMatch(/code:[1-9]/);
    // The files it writes are the workload uid's on the host, never root's.
    await run(sh("echo x > /app/mine"));
    expect((await stat(join(appDir, "mine"))).uid).toBe(uid);
  });

  it("sees read-only system directories, a writable app dir and /tmp, and nothing else of the host", async () => {
    const r = await run(
      sh(
        [
          "for p in /usr/x /etc/x /bin/x /x; do touch $p 2>/dev/null && echo wrote:$p || echo denied:$p; done",
          "touch /app/ok && echo wrote:/app",
          "touch /tmp/ok && echo wrote:/tmp",
          `for p in /root /work /home /var /opt /etc/shadow /run/mysqld ${root} ${process.cwd()}; do [ -e $p ] && echo visible:$p || echo absent:$p; done`,
          "ls /dev | tr '\\n' ' '",
        ].join("; "),
      ),
    );
    expect(r.code, r.stderr).toBe(0);
    for (const p of ["/usr/x", "/etc/x", "/bin/x", "/x"]) expect(r.stdout).toContain(`denied:${p}`);
    expect(r.stdout).toContain("wrote:/app");
    expect(r.stdout).toContain("wrote:/tmp");
    expect(r.stdout).not.toMatch(/visible:/);
    const devices = r.stdout.trim().split("\n").pop()!.split(" ").filter(Boolean);
    expect(
      devices.filter(
        (d) =>
          ![
            "console",
            "core",
            "fd",
            "full",
            "mqueue",
            "null",
            "ptmx",
            "pts",
            "random",
            "shm",
            "stderr",
            "stdin",
            "stdout",
            "tty",
            "urandom",
            "zero",
          ].includes(d),
      ),
    ).toEqual([]);
  });

  it("has no network but its own loopback: a port the host listens on is unreachable", async () => {
    const script = `const s=require("net").connect(${hostPort},"127.0.0.1");s.on("connect",()=>{console.log("connected");process.exit(0)});s.on("error",e=>{console.log(e.code);process.exit(0)})`;
    const r = await run(["node", "-e", script]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("ECONNREFUSED");
    // Its own loopback works (an app listens on $PORT inside).
    const inside = await run([
      "node",
      "-e",
      `const n=require("net");n.createServer(c=>c.end("ok")).listen(5000,"127.0.0.1",()=>n.connect(5000,"127.0.0.1").on("data",d=>{console.log(String(d));process.exit(0)}))`,
    ]);
    expect(inside.stdout.trim()).toBe("ok");
  });

  it("gets exactly the environment it was given", async () => {
    const env = { PATH: "/usr/bin:/bin", PORT: "1234", CTRL_INSTANCE_ID: "x-0", GREETING: "hi" };
    const r = await run(["node", "-e", "console.log(JSON.stringify(process.env))"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(env);
  });

  it("bounds processes (RLIMIT_NPROC of its uid) and file size (RLIMIT_FSIZE)", async () => {
    // A fork bomb: children are refused once the uid's process count (threads included) hits the limit.
    const bomb = `const {spawn}=require("child_process");const kids=[];let ok=0,fail=0,n=0;
      function next(){if(n++>=150){console.log("started:"+ok+" refused:"+fail);for(const k of kids)k.kill("SIGKILL");return setTimeout(()=>process.exit(0),100)}
      const c=spawn("sleep",["30"],{stdio:"ignore"});kids.push(c);c.on("spawn",()=>{ok++;next()});c.on("error",()=>{fail++;next()})}next()`;
    const bombed = await run(["node", "-e", bomb], undefined, { limits: { processes: 48, fileSizeBytes: 1 << 20, openFiles: 256 } });
    const [, started, refused] = /started:(\d+) refused:(\d+)/.exec(bombed.stdout) ?? [];
    expect(Number(started), bombed.stdout + bombed.stderr).toBeGreaterThan(0);
    expect(Number(started)).toBeLessThan(48);
    expect(Number(refused)).toBeGreaterThan(100);
    const big = await run(sh("head -c 3000000 /dev/zero > /app/big; echo code:$?; wc -c < /app/big"));
    expect(big.stdout).toMatch(/code:(153|1)/); // SIGXFSZ (128+25) or EFBIG
    expect(Number(big.stdout.trim().split("\n").pop())).toBeLessThanOrEqual(1 << 20);
  });

  it("serves its port to the host through the bridge, passes the exit code, and leaves nothing running", async () => {
    const port = await freePort();
    const { server, fd } = await listenOnHost(port);
    const app = `require("http").createServer((q,s)=>s.end("from inside "+process.pid)).listen(${port},"127.0.0.1");process.on("SIGTERM",()=>{require("fs").writeFileSync("/app/got-term","");process.exit(7)})`;
    const argv = sandboxArgv(tools, policy({ portBridge: { fd: 3, port } }), ["node", "-e", app]);
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { PATH: "/usr/bin:/bin" },
      stdio: ["ignore", "ignore", "inherit", fd],
      detached: true,
    });
    await closeListener(server);
    const exited = new Promise<void>((ok) => child.on("exit", () => ok()));
    const body = await waitFor("the app to answer through the bridge", async () => {
      const res = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
      return res?.status === 200 ? res.text() : undefined;
    });
    expect(body).toMatch(/^from inside \d$/); // its own pid namespace
    // A signal to the process group reaches the app (no new session).
    process.kill(-child.pid!, "SIGTERM");
    await exited;
    // The outer bwrap can exit on the signal before the app has finished its handler: wait for it.
    await waitFor(
      "the app to handle SIGTERM",
      async () => (await stat(join(appDir, "got-term")).catch(() => undefined))?.isFile() === true,
    );
    await waitFor("no process of the workload uid left", async () => (await leftovers()).length === 0);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});

describe("build egress proxy", () => {
  it("refuses loopback, private and link-local addresses", () => {
    for (const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "0.0.0.0",
      "::1",
      "fe80::1",
      "fd00::1",
      "::ffff:127.0.0.1",
      "100.64.0.1",
    ])
      expect(isForbiddenAddress(ip), ip).toBe(true);
    for (const ip of ["104.16.0.35", "2606:4700::6810:1", "8.8.8.8"]) expect(isForbiddenAddress(ip), ip).toBe(false);
  });

  it("tunnels a sandboxed request only to an allowed public host; the host's ports and other names are refused", async () => {
    const socketDir = join(root, "egress");
    await makeTraversable(socketDir);
    const refusals: string[] = [];
    const proxy = await startEgressProxy({
      socketPath: join(socketDir, "proxy.sock"),
      allowHosts: ["registry.npmjs.org", "evil.example"],
      // evil.example "resolves" to the host itself: a DNS rebinding attempt.
      resolve: async (h) =>
        h === "evil.example"
          ? ["127.0.0.1"]
          : (await import("node:dns/promises")).lookup(h, { all: true }).then((a) => a.map((x) => x.address)),
      onRefused: (target, why) => refusals.push(`${target}: ${why}`),
    });
    try {
      const egress = { port: 3128, socket: "/run/ctrl/proxy.sock" };
      const mounts = [
        { host: appDir, sandbox: "/app", writable: true },
        { host: proxy.socketPath, sandbox: egress.socket },
      ];
      const curl = (url: string) => `curl -s -o /dev/null -w '%{http_code} ' --max-time 20 --proxy http://127.0.0.1:3128 ${url}; echo`;
      const r = await run(
        sh(
          [
            curl("https://registry.npmjs.org/-/ping"),
            curl(`https://127.0.0.1:${hostPort}/`),
            curl("https://evil.example/"),
            curl("http://registry.npmjs.org/"),
            `curl -s --max-time 5 https://registry.npmjs.org/ || echo direct:failed`,
          ].join("; "),
        ),
        { PATH: "/usr/bin:/bin", SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt" },
        { egress, mounts },
      );
      const lines = r.stdout.trim().split("\n");
      expect(lines[0]!.trim(), r.stderr).toBe("200");
      expect(lines[1]!.trim()).not.toBe("200");
      expect(lines[2]!.trim()).not.toBe("200");
      expect(lines[3]!.trim()).toBe("403");
      expect(lines[4]).toBe("direct:failed");
      expect(refusals.some((x) => x.startsWith(`127.0.0.1:${hostPort}`))).toBe(true);
      expect(refusals.some((x) => x.includes("evil.example resolves to a non-public address"))).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});
