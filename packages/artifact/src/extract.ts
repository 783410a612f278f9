import { mkdir, open, readdir, stat } from "node:fs/promises";
import { x, type ReadEntry } from "tar";
import { ExtractError } from "./errors.js";
import { checkLinks, fileTypes, normalize } from "./extract/entries.js";
import { scan, toExtractError } from "./extract/scan.js";

/** Bounds on what {@link safeExtract} accepts. */
export interface ExtractLimits {
  /** Size of the `.tar.gz` file itself. */
  maxCompressedBytes: number;
  /** Sum of the sizes of all regular files once unpacked. */
  maxExtractedBytes: number;
  /** Number of entries (files, directories, links). */
  maxFiles: number;
}

/** 512 MiB compressed, 2 GiB unpacked, 100,000 entries: room for an app with its node_modules. */
export const defaultExtractLimits: ExtractLimits = {
  maxCompressedBytes: 512 * 1024 * 1024,
  maxExtractedBytes: 2 * 1024 * 1024 * 1024,
  maxFiles: 100_000,
};

/**
 * Extracts a `.tar.gz` into `destDir` (created if missing, must be empty), refusing anything that
 * could write outside it or exhaust the disk. Two passes over the file: the first parses headers
 * only (streaming, aborting at the first violation) and checks every rule against the whole
 * archive, including symlink chains; the second extracts with node-tar in strict mode, accepting
 * only the entries the first pass approved, in the same order.
 *
 * Throws ExtractError (code + the offending entry or limit in the message) for: not gzip, absolute
 * paths, `..` segments, symlinks/hardlinks resolving outside the root (or entries written through a
 * symlink), device/fifo/other special entries, duplicate paths, a non-empty destination, limits.
 */
export async function safeExtract(
  archiveFile: string,
  destDir: string,
  limits: Partial<ExtractLimits> = {},
): Promise<{ files: number; bytes: number }> {
  const lim: ExtractLimits = { ...defaultExtractLimits, ...limits };
  const size = (await stat(archiveFile)).size;
  if (size > lim.maxCompressedBytes) {
    throw new ExtractError(
      "compressed_too_large",
      `archive is ${size} bytes, over the limit of ${lim.maxCompressedBytes} compressed bytes`,
    );
  }
  await assertGzip(archiveFile);
  const entries = await scan(archiveFile, lim);
  checkLinks(entries);

  await mkdir(destDir, { recursive: true });
  const existing = await readdir(destDir);
  if (existing.length > 0) throw new ExtractError("dest_not_empty", `destination ${destDir} is not empty (${existing.length} entries)`);

  // Second pass: node-tar does the writing (with its own symlink and path defences), but only of
  // the approved entries, in order; anything else means the file changed between passes.
  let index = 0;
  let bytes = 0;
  let mismatch: ExtractError | undefined;
  const approved = entries.filter((e) => e.path !== "");
  await x({
    file: archiveFile,
    cwd: destDir,
    strict: true,
    preserveOwner: false,
    // Modes come from the archive (exec bits matter); never setuid/setgid/sticky.
    umask: 0o7022,
    filter: (path, entry) => {
      const read = entry as ReadEntry;
      if (normalize(path) === "") return false;
      const expected = approved[index++];
      if (!expected || expected.raw !== path || expected.type !== read.type || expected.size !== read.size) {
        mismatch ??= new ExtractError("corrupt", `archive changed while extracting (entry ${JSON.stringify(path)})`, path);
        return false;
      }
      if (fileTypes.has(read.type)) bytes += read.size;
      // Never setuid/setgid/sticky (umask above drops them too; this does not depend on node-tar
      // applying it), and always readable — directories searchable — by the unprivileged sandbox
      // uids that run the artifact (it is extracted once as the agent's user and shared read-only).
      if (typeof read.mode === "number") read.mode = (read.mode & 0o777) | (read.type === "Directory" ? 0o555 : 0o444);
      return true;
    },
  }).catch((err: unknown) => {
    throw mismatch ?? toExtractError(err);
  });
  if (mismatch) throw mismatch;
  return { files: approved.length, bytes };
}

async function assertGzip(file: string): Promise<void> {
  const fh = await open(file, "r");
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    if (bytesRead < 2 || buffer[0] !== 0x1f || buffer[1] !== 0x8b) {
      throw new ExtractError("not_gzip", "archive is not gzip-compressed (expected a .tar.gz starting with 1f 8b)");
    }
  } finally {
    await fh.close();
  }
}
