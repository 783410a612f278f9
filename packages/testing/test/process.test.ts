/**
 * The harness's own process handling, which every other test trusts to leave nothing behind:
 * stop()/kill() end the whole process group (a `sh -c` wrapper's children too, also after the
 * wrapper itself exited) and resolve only once the group is empty, stop() escalates to SIGKILL for a
 * group that ignores SIGTERM, and liveGroupMembers() — the leak detector — sees what is left. Real
 * processes, no mocks. (A pid of a dead child may linger as a zombie until init reaps it: the
 * detector ignores zombies, they hold no port or file.)
 */
import { afterEach, describe, expect, it } from "vitest";
import { liveGroupMembers, startProcess, waitFor, type ManagedProcess } from "../src/index.js";

const started: ManagedProcess[] = [];
/** Pids a test let escape its group on purpose (setsid), killed after it. */
const escaped: number[] = [];

afterEach(async () => {
  for (const p of started.splice(0)) await p.kill();
  for (const pid of escaped.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
});

function sh(script: string): ManagedProcess {
  const p = startProcess("sh", "/bin/sh", ["-c", script]);
  started.push(p);
  return p;
}

/** Resolves with the pids the script printed, one per line, once `count` of them arrived. */
async function printedPids(p: ManagedProcess, count: number): Promise<number[]> {
  return waitFor(
    `${count} pids printed`,
    () => {
      const pids = p
        .tail(50)
        .split("\n")
        .filter((l) => /^\d+$/.test(l))
        .map(Number);
      return pids.length >= count ? pids : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 10 },
  );
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("startProcess", () => {
  it("stop() ends the wrapper and every child in its group; the leak detector sees them before and none after", async () => {
    const p = sh("sleep 300 & echo $!; sleep 300 & echo $!; wait");
    const children = await printedPids(p, 2);
    const pgid = p.child.pid!;
    await waitFor("the group to hold the wrapper and both children", () => liveGroupMembers(pgid).length >= 3);
    expect(liveGroupMembers(pgid)).toEqual(expect.arrayContaining([pgid, ...children]));
    // stop() resolves once the group is empty: checked at once, without waiting.
    await p.stop(5_000);
    expect(liveGroupMembers(pgid)).toEqual([]);
  });

  it("stop() after the wrapper already exited still ends the orphans it left in its group", async () => {
    const p = sh("sleep 300 & echo $!; exit 0");
    const [orphan] = await printedPids(p, 1);
    await p.exited;
    const pgid = p.child.pid!;
    expect(liveGroupMembers(pgid)).toEqual([orphan]);
    await p.stop();
    expect(liveGroupMembers(pgid)).toEqual([]);
  });

  it("stop(grace) SIGKILLs a group that ignores SIGTERM once the grace is over", async () => {
    // An ignored signal stays ignored across exec, so the sleeps ignore SIGTERM too.
    const p = sh("trap '' TERM; sleep 300 & echo $!; wait; wait");
    const [child] = await printedPids(p, 1);
    const pgid = p.child.pid!;
    await p.stop(200);
    expect((await p.exited).signal).toBe("SIGKILL");
    expect(liveGroupMembers(pgid)).toEqual([]);
    expect(child).toBeGreaterThan(0);
  });

  it("kill() ends the group with SIGKILL at once", async () => {
    const p = sh("sleep 300 & echo $!; wait");
    const [child] = await printedPids(p, 1);
    await p.kill();
    expect((await p.exited).signal).toBe("SIGKILL");
    expect(liveGroupMembers(p.child.pid!)).toEqual([]);
    expect(child).toBeGreaterThan(0);
  });

  it("leaves a process that started its own session alone, and the leak detector does not count it", async () => {
    // krane's instances do this on purpose: they outlive their agent. The group kill must not reach them.
    const p = sh("setsid sleep 300 & echo $!; wait");
    const [loner] = await printedPids(p, 1);
    escaped.push(loner!);
    await waitFor("the loner to run", () => pidExists(loner!), { timeoutMs: 5_000, intervalMs: 10 });
    await p.stop();
    expect(liveGroupMembers(p.child.pid!)).toEqual([]);
    expect(pidExists(loner!)).toBe(true);
  });

  it("keeps the last lines of output for failure messages", async () => {
    const p = sh("for i in 1 2 3 4 5; do echo line $i; done; echo oops >&2");
    await p.exited;
    expect(p.tail(3).split("\n")).toEqual(["line 4", "line 5", "oops"]);
  });
});

describe("waitFor", () => {
  it("returns the first truthy value and fails after the deadline naming what and the last error", async () => {
    let n = 0;
    expect(await waitFor("n to reach 3", () => (++n >= 3 ? n : undefined), { intervalMs: 1 })).toBe(3);
    await expect(
      waitFor(
        "never",
        () => {
          throw new Error("still broken");
        },
        { timeoutMs: 50, intervalMs: 5 },
      ),
    ).rejects.toThrow(/timed out after 50 ms waiting for never: still broken/);
  });
});
