import {
  downloadArtifact,
  readManifest,
  safeExtract,
  type ArtifactManifest,
  type ArtifactRef,
  type ExtractLimits,
  type Storage,
} from "@ctrl/artifact";
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";

/** An artifact unpacked on local disk. */
export interface LocalArtifact {
  /** The unpacked tree: the instances' working directory. */
  dir: string;
  manifest: ArtifactManifest;
}

/** Time spent in each phase of the last pull of an artifact (for the benchmark and logs). */
export interface PullTimings {
  downloadMs: number;
  unpackMs: number;
}

/**
 * Downloads, verifies and unpacks each artifact once into `<root>/<sha256>`: concurrent requests
 * for the same digest share one pull, and an unpacked directory (which only ever appears by an
 * atomic rename after verification) is reused by every instance and across agent restarts.
 */
export class ArtifactCache {
  private readonly inflight = new Map<string, Promise<LocalArtifact>>();
  /** Timings of pulls done by this process, by digest. */
  readonly timings = new Map<string, PullTimings>();

  constructor(
    private readonly root: string,
    private readonly storage: Storage,
    private readonly limits: Partial<ExtractLimits> = {},
  ) {}

  /** True while a pull of this digest is in flight. */
  busy(sha256: string): boolean {
    return this.inflight.has(sha256);
  }

  ensure(ref: ArtifactRef): Promise<LocalArtifact> {
    let pending = this.inflight.get(ref.sha256);
    if (!pending) {
      pending = this.pull(ref).finally(() => this.inflight.delete(ref.sha256));
      this.inflight.set(ref.sha256, pending);
    }
    return pending;
  }

  private async pull(ref: ArtifactRef): Promise<LocalArtifact> {
    const dir = join(this.root, ref.sha256);
    if (await exists(dir)) return { dir, manifest: await readManifest(dir) };
    await mkdir(this.root, { recursive: true });
    const tag = randomBytes(4).toString("hex");
    const archive = join(this.root, `${ref.sha256}.${tag}.tar.gz`);
    const staging = join(this.root, `${ref.sha256}.${tag}.tmp`);
    try {
      const t0 = performance.now();
      await downloadArtifact(
        this.storage,
        ref,
        archive,
        this.limits.maxCompressedBytes ? { maxBytes: this.limits.maxCompressedBytes } : {},
      );
      const t1 = performance.now();
      await safeExtract(archive, staging, this.limits);
      // Validate before publishing: a directory under <sha256> always has a readable manifest.
      await readManifest(staging);
      await rename(staging, dir);
      this.timings.set(ref.sha256, { downloadMs: t1 - t0, unpackMs: performance.now() - t1 });
    } finally {
      await rm(archive, { force: true });
      await rm(staging, { recursive: true, force: true });
    }
    return { dir, manifest: await readManifest(dir) };
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
