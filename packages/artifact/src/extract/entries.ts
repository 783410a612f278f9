import type { ReadEntry } from "tar";
import { ExtractError } from "../errors.js";

/** Types whose bytes count towards the extracted size. */
export const fileTypes = new Set(["File", "OldFile", "ContiguousFile"]);
const allowedTypes = new Set([...fileTypes, "Directory", "SymbolicLink", "Link"]);
/** Symlink hops before a chain counts as a loop (Linux uses 40 too). */
const maxLinkHops = 40;

/** One archive entry that passed {@link checkEntry}. */
export interface CheckedEntry {
  /** Normalized, `/`-separated, relative; "" for the root itself. */
  path: string;
  /** The path exactly as in the archive (what tar.x's filter sees). */
  raw: string;
  type: string;
  size: number;
  linkpath?: string;
}

/** Checks one entry in isolation: type, path shape. */
export function checkEntry(entry: ReadEntry): CheckedEntry {
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
export function normalize(p: string): string {
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
export function checkLinks(entries: CheckedEntry[]): void {
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
