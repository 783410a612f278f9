import type { Generated, Selectable } from "kysely";

/** What instances printed (stdout and stderr), one row per line, per deployment (migration 0015_runtime_logs). */
export interface RuntimeLogsTable {
  id: Generated<number>;
  deployment_id: string;
  region: string;
  instance: string;
  stream: string;
  position: number;
  line: string;
  observed_at: number;
}
export type RuntimeLogLine = Selectable<RuntimeLogsTable>;
