import { constants } from "node:fs";
import { open, readFile, type FileHandle } from "node:fs/promises";
import { haltFileOf, type InstanceRecord } from "./instance-record.js";

/**
 * The exit code the shim recorded in the instance's exit file, if any (it survives the agent, so
 * a restarted agent learns the code of an instance it did not spawn).
 */
export async function readExitCode(record: Pick<InstanceRecord, "exitFile">): Promise<number | undefined> {
  try {
    const text = await readFile(record.exitFile, "utf8");
    const n = Number.parseInt(text, 10);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The first line the app wrote to $CTRL_HALT_FILE (at most 64 characters), if any. The file sits
 * in a directory the (sandboxed, hostile) app can write: never follow a symlink it planted there
 * (it would make the agent report the first line of any host file), read only a regular file,
 * and only its first bytes.
 */
export async function readHaltIntent(record: Pick<InstanceRecord, "exitFile" | "haltFile">): Promise<string | undefined> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(haltFileOf(record), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    if (!(await fh.stat()).isFile()) return undefined;
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(256), 0, 256, 0);
    const text = buffer.subarray(0, bytesRead).toString("utf8").split("\n")[0]!.trim().slice(0, 64);
    return text || undefined;
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

/** The shell's convention for a process killed by a signal: 128 + the signal's number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (signalNumbers[signal] ?? 0);
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGTERM: 15,
};
