import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * The last applied version of one stream, persisted in the data directory (atomic rename). It is
 * advanced only after the change was applied, so a crash replays at most the change in flight.
 * A cursor written for another region is ignored (the data directory was reused).
 */
export class CursorStore {
  private value = 0n;

  constructor(
    private readonly file: string,
    private readonly region: string,
  ) {}

  async load(): Promise<bigint> {
    try {
      const saved = JSON.parse(await readFile(this.file, "utf8")) as { region?: string; version?: string };
      this.value = saved.region === this.region && saved.version ? BigInt(saved.version) : 0n;
    } catch {
      this.value = 0n;
    }
    return this.value;
  }

  get(): bigint {
    return this.value;
  }

  async set(version: bigint): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify({ region: this.region, version: version.toString() }));
    await rename(tmp, this.file);
    this.value = version;
  }
}
