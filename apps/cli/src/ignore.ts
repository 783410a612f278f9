import ignore, { type Ignore } from "ignore";
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";

/** Always left out of a context: VCS metadata and installed dependencies (the builder installs them). */
export const defaultIgnoreRules = [".git/", "node_modules/"];

/** The ignore files of one directory (relative to the context root, "" for the root). */
export interface IgnoreFiles {
  gitignore?: string;
  ctrlignore?: string;
}

/**
 * Decides which paths of a context directory are packed, the way git does with `.gitignore`
 * files at every level, plus `.ctrlignore` files read after them (so `!pattern` in `.ctrlignore`
 * can bring back what `.gitignore` leaves out, e.g. a `dist/` that must be deployed).
 * `loadFiles` reads a directory's ignore files (in memory for tests, from disk for the CLI).
 */
export class ContextIgnore {
  private readonly perDir = new Map<string, Ignore | null>();
  private readonly ancestors: { prefix: string; rules: Ignore }[];

  /**
   * `ancestors`: `.gitignore` texts of the directories above the context inside the same git
   * checkout, outermost first, each with the context's path relative to it (`prefix`, ending in `/`).
   */
  constructor(
    private readonly loadFiles: (dirRel: string) => IgnoreFiles,
    ancestors: { prefix: string; gitignore: string }[] = [],
  ) {
    this.ancestors = ancestors.map((a) => ({ prefix: a.prefix, rules: ignore().add(a.gitignore) }));
  }

  /** True when `relPath` (`/`-separated, relative to the root) is left out. */
  ignores(relPath: string, isDirectory: boolean): boolean {
    const parts = relPath.split("/").filter(Boolean);
    if (parts.length === 0) return false;
    // Each directory's rules apply to the paths below it, relative to that directory; a later
    // (deeper) level can re-include what an earlier one excluded, as in git.
    let ignored = false;
    for (const a of this.ancestors) {
      const result = a.rules.test(a.prefix + parts.join("/") + (isDirectory ? "/" : ""));
      if (result.ignored) ignored = true;
      else if (result.unignored) ignored = false;
    }
    for (let depth = 0; depth < parts.length; depth++) {
      const dirRel = parts.slice(0, depth).join("/");
      const rules = this.rulesOf(dirRel);
      if (!rules) continue;
      const sub = parts.slice(depth).join("/") + (isDirectory ? "/" : "");
      const result = rules.test(sub);
      if (result.ignored) ignored = true;
      else if (result.unignored) ignored = false;
    }
    return ignored;
  }

  private rulesOf(dirRel: string): Ignore | null {
    if (this.perDir.has(dirRel)) return this.perDir.get(dirRel)!;
    const files = this.loadFiles(dirRel);
    let rules: Ignore | null = null;
    if (dirRel === "" || files.gitignore !== undefined || files.ctrlignore !== undefined) {
      rules = ignore();
      if (dirRel === "") rules.add(defaultIgnoreRules);
      if (files.gitignore !== undefined) rules.add(files.gitignore);
      if (files.ctrlignore !== undefined) rules.add(files.ctrlignore);
    }
    this.perDir.set(dirRel, rules);
    return rules;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * The `.gitignore` files above `root` up to the top of its git checkout (the nearest ancestor with
 * a `.git`), outermost first; none when `root` is not inside a checkout or is its top.
 */
export function ancestorGitignores(root: string): { prefix: string; gitignore: string }[] {
  const chain: string[] = [];
  let dir = root;
  for (;;) {
    if (existsSync(join(dir, ".git"))) break;
    const parent = dirname(dir);
    if (parent === dir) return []; // not in a checkout: git would not apply these files
    chain.unshift(parent);
    dir = parent;
  }
  const out: { prefix: string; gitignore: string }[] = [];
  for (const ancestor of chain) {
    const gitignore = readText(join(ancestor, ".gitignore"));
    if (gitignore !== undefined) out.push({ prefix: relative(ancestor, root).split(sep).join("/") + "/", gitignore });
  }
  return out;
}

/**
 * A {@link ContextIgnore} reading `.gitignore` and `.ctrlignore` files under `root` from disk, and
 * the `.gitignore` files above it in the same git checkout (as git would apply them).
 */
export function contextIgnoreFor(root: string): ContextIgnore {
  const read = readText;
  return new ContextIgnore((dirRel) => {
    const dir = join(root, dirRel);
    const gitignore = read(join(dir, ".gitignore"));
    const ctrlignore = read(join(dir, ".ctrlignore"));
    return { ...(gitignore !== undefined ? { gitignore } : {}), ...(ctrlignore !== undefined ? { ctrlignore } : {}) };
  }, ancestorGitignores(root));
}

/** The `ignore(relPath)` callback `packDirectory` takes, for a context rooted at `root`. */
export function packFilter(root: string): (relPath: string) => boolean {
  const rules = contextIgnoreFor(root);
  return (relPath) => {
    let isDirectory = false;
    try {
      isDirectory = lstatSync(join(root, relPath)).isDirectory();
    } catch {
      // Vanished while packing: let the packer report it.
    }
    return rules.ignores(relPath, isDirectory);
  };
}
