import { readdir, readlink } from "node:fs/promises";
import { posix } from "node:path";
import { join } from "node:path";

/**
 * The first symlink under `root` whose target is absolute or resolves outside `root`, as
 * `{ path, target }` (path relative to the root), or undefined. The agent's safe extraction refuses
 * such an artifact, so the builder checks before packing and names the link instead.
 */
export async function findEscapingSymlink(root: string, rel = ""): Promise<{ path: string; target: string } | undefined> {
  const entries = await readdir(join(root, rel), { withFileTypes: true });
  for (const entry of entries) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isSymbolicLink()) {
      const target = await readlink(join(root, path));
      const resolved = posix.normalize(posix.join(posix.dirname(path), target));
      if (posix.isAbsolute(target) || resolved === ".." || resolved.startsWith("../")) return { path, target };
    } else if (entry.isDirectory()) {
      const found = await findEscapingSymlink(root, path);
      if (found) return found;
    }
  }
  return undefined;
}
