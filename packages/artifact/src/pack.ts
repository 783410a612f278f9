import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { create } from "tar";

/** Every entry gets this mtime so that the same tree always packs to the same bytes. */
const fixedMtime = new Date("2000-01-01T00:00:00Z");

/** Options for {@link packDirectory}. */
export interface PackOptions {
  /** Return true to leave a path (relative, `/`-separated; directories end without `/`) out, with everything under it. */
  ignore?: (relPath: string) => boolean;
}

/**
 * Packs `dir` into a deterministic `.tar.gz` at `outFile`: entries sorted by path, fixed mtime,
 * no owner/device metadata (`portable`), so identical trees give identical digests. Symlinks are
 * stored as symlinks (never followed). Returns the archive's sha256 and size.
 */
export async function packDirectory(dir: string, outFile: string, opts: PackOptions = {}): Promise<{ sha256: string; bytes: number }> {
  const entries = await listTree(dir, "", opts.ignore ?? (() => false));
  // Write beside the target and rename, so a reader never sees half an archive.
  const tmp = `${outFile}.tmp-${process.pid}-${Date.now()}`;
  try {
    await create({ gzip: true, file: tmp, cwd: dir, portable: true, mtime: fixedMtime, noDirRecurse: true }, entries.length ? entries : []);
    await rename(tmp, outFile);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const [sha256, info] = await Promise.all([sha256File(outFile), stat(outFile)]);
  return { sha256, bytes: info.size };
}

/** Sorted relative paths of everything under `dir` (directories before their contents). */
async function listTree(root: string, rel: string, ignore: (relPath: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const dirents = await readdir(join(root, rel), { withFileTypes: true });
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of dirents) {
    const path = rel ? `${rel}/${d.name}` : d.name;
    if (ignore(path)) continue;
    out.push(path);
    if (d.isDirectory()) out.push(...(await listTree(root, path, ignore)));
  }
  return out;
}

/** Lowercase hex sha256 of a file's bytes, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
