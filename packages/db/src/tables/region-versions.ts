/** The per-region version counter, locked while a versioned change commits. */
export interface RegionVersionsTable {
  region: string;
  version: number;
}
