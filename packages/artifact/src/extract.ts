import { createReadStream } from "node:fs";
import { mkdir, open, readdir, stat } from "node:fs/promises";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { Parser, x, type ReadEntry } from "tar";
import { ExtractError } from "./errors.js";

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

const fileTypes = new Set(["File", "OldFile", "ContiguousFile"]);
const allowedTypes = new Set([...fileTypes, "Directory", "SymbolicLink", "Link"]);
/** Symlink hops before a chain counts as a loop (Linux uses 40 too). */
const maxLinkHops = 40;

interface CheckedEntry {
  /** Normalized, `/`-separated, relative; "" for the root itself. */
  path: string;
  /** The path exactly as in the archive (what tar.x's filter sees). */
  raw: string;
  type: string;
  size: number;
  linkpath?: string;
}

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

/** First pass: decompress (counting bytes), parse headers, check each entry and the limits. */
async function scan(file: string, lim: ExtractLimits): Promise<CheckedEntry[]> {
  const entries: CheckedEntry[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  let failure: ExtractError | undefined;
  // Headers, padding and pax records on top of the file bodies; a stream past this is a bomb.
  const streamCap = lim.maxExtractedBytes + (lim.maxFiles + 16) * 4096;
  let streamed = 0;
  let first = true;

  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      entry.resume();
      if (failure) return;
      try {
        const checked = checkEntry(entry);
        if (entries.length >= lim.maxFiles) {
          throw new ExtractError("too_many_files", `archive has more than ${lim.maxFiles} entries (limit maxFiles)`, checked.raw);
        }
        if (checked.path !== "" && seen.has(checked.path)) {
          throw new ExtractError("duplicate_entry", `entry ${JSON.stringify(checked.raw)} appears twice`, checked.raw);
        }
        seen.add(checked.path);
        if (fileTypes.has(checked.type)) {
          bytes += checked.size;
          if (bytes > lim.maxExtractedBytes) {
            throw new ExtractError(
              "extracted_too_large",
              `archive unpacks to more than ${lim.maxExtractedBytes} bytes (limit maxExtractedBytes, reached at ${JSON.stringify(checked.raw)})`,
              checked.raw,
            );
          }
        }
        entries.push(checked);
      } catch (err) {
        failure = err as ExtractError;
        parser.abort(failure);
      }
    },
  });
  const parserErrors: Error[] = [];
  parser.on("error", (err: Error) => parserErrors.push(err));
  parser.on("warn", (code: string, message: string | Error) => parserErrors.push(new Error(`${code}: ${String(message)}`)));

  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (first) {
        first = false;
        // A compressed payload inside the gzip would be decompressed again by the parser, past our count.
        if (
          (chunk[0] === 0x1f && chunk[1] === 0x8b) ||
          (chunk[0] === 0x28 && chunk[1] === 0xb5 && chunk[2] === 0x2f && chunk[3] === 0xfd)
        ) {
          return cb(new ExtractError("corrupt", "archive is compressed twice (a compressed stream inside the gzip)"));
        }
      }
      streamed += chunk.length;
      if (streamed > streamCap) {
        return cb(
          new ExtractError(
            "extracted_too_large",
            `archive decompresses to more than ${streamCap} bytes (limit maxExtractedBytes plus headers)`,
          ),
        );
      }
      cb(null, chunk);
    },
  });
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (failure) return cb(failure);
      parser.write(chunk);
      cb(failure ?? null);
    },
    final(cb) {
      parser.end(() => cb(failure ?? null));
    },
  });
  try {
    await pipeline(createReadStream(file), createGunzip(), meter, sink);
  } catch (err) {
    throw failure ?? toExtractError(err);
  }
  if (failure) throw failure;
  if (parserErrors.length) throw toExtractError(parserErrors[0]);
  return entries;
}

/** Checks one entry in isolation: type, path shape. */
function checkEntry(entry: ReadEntry): CheckedEntry {
  const raw = entry.path;
  const show = JSON.stringify(raw);
  if (raw.includes("\0")) throw new ExtractError("corrupt", `entry ${show} has a NUL byte in its path`, raw);
  if (!allowedTypes.has(entry.type)) {
    throw new ExtractError("unsupported_type", `entry ${show} is a ${entry.type}; only files, directories and links are allowed`, raw);
  }
  checkPathShape(raw, "entry", raw);
  const checked: CheckedEntry = { path: normalize(raw), raw, type: entry.type, size: entry.size ?? 0 };
  if (checked.path === "" && entry.type !== "Directory") throw new ExtractError("corrupt", `entry ${show} has an empty path`, raw);
  if (entry.type === "SymbolicLink" || entry.type === "Link") {
    const link = entry.linkpath ?? "";
    if (!link) throw new ExtractError("corrupt", `link ${show} has no target`, raw);
    if (link.includes("\0")) throw new ExtractError("corrupt", `link ${show} has a NUL byte in its target`, raw);
    if (isAbsolute(link)) throw new ExtractError("link_escape", `link ${show} points to the absolute path ${JSON.stringify(link)}`, raw);
    // A hardlink target is a path inside the archive: the same shape rules as an entry path.
    if (entry.type === "Link") checkPathShape(link, "hardlink target of", raw);
    checked.linkpath = link;
  }
  return checked;
}

function isAbsolute(p: string): boolean {
  return p.startsWith("/") || p.startsWith("\\") || /^[A-Za-z]:/.test(p);
}

function checkPathShape(p: string, what: string, raw: string): void {
  if (isAbsolute(p)) throw new ExtractError("absolute_path", `${what} ${JSON.stringify(p)} is an absolute path`, raw);
  if (p.split(/[\\/]/).includes("..")) throw new ExtractError("path_traversal", `${what} ${JSON.stringify(p)} has a ".." segment`, raw);
}

/** `./a//b/` → `a/b`. */
function normalize(p: string): string {
  return p
    .split("/")
    .filter((s) => s !== "" && s !== ".")
    .join("/");
}

/**
 * Checks, against the archive's final set of symlinks (the destination starts empty, so these are
 * the only ones that exist), that every link resolves inside the root and that no entry is
 * written through a symlinked directory.
 */
function checkLinks(entries: CheckedEntry[]): void {
  const symlinks = new Map<string, string>();
  for (const e of entries) if (e.type === "SymbolicLink") symlinks.set(e.path, e.linkpath!);
  for (const e of entries) {
    const parts = e.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      if (symlinks.has(prefix)) {
        throw new ExtractError(
          "path_traversal",
          `entry ${JSON.stringify(e.raw)} would be written through the symlink ${JSON.stringify(prefix)}`,
          e.raw,
        );
      }
    }
    if (e.type === "SymbolicLink") {
      const from = parts.slice(0, -1);
      if (!resolvesInside([...from, ...e.linkpath!.split("/")], symlinks)) {
        throw new ExtractError(
          "link_escape",
          `symlink ${JSON.stringify(e.raw)} -> ${JSON.stringify(e.linkpath)} resolves outside the extraction root`,
          e.raw,
        );
      }
    } else if (e.type === "Link") {
      if (!resolvesInside(e.linkpath!.split("/"), symlinks)) {
        throw new ExtractError(
          "link_escape",
          `hardlink ${JSON.stringify(e.raw)} -> ${JSON.stringify(e.linkpath)} resolves outside the extraction root`,
          e.raw,
        );
      }
    }
  }
}

/** Walks `segments` from the root, following archive symlinks; false if it ever climbs above the root. */
function resolvesInside(segments: string[], symlinks: Map<string, string>): boolean {
  const queue = [...segments];
  const current: string[] = [];
  let hops = 0;
  while (queue.length) {
    const seg = queue.shift()!;
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (current.length === 0) return false;
      current.pop();
      continue;
    }
    current.push(seg);
    const target = symlinks.get(current.join("/"));
    if (target !== undefined) {
      if (++hops > maxLinkHops || isAbsolute(target)) return false;
      current.pop();
      queue.unshift(...target.split("/"));
    }
  }
  return true;
}

function toExtractError(err: unknown): ExtractError {
  if (err instanceof ExtractError) return err;
  const e = err as NodeJS.ErrnoException & { tarCode?: string };
  const message = e?.message ?? String(err);
  if (e?.code === "Z_DATA_ERROR" || e?.code === "Z_BUF_ERROR" || e?.code === "ERR_STREAM_PREMATURE_CLOSE") {
    return new ExtractError("corrupt", `archive is corrupt or truncated: ${message}`);
  }
  return new ExtractError("corrupt", `archive could not be read: ${e?.tarCode ? `${e.tarCode} ` : ""}${message}`);
}
