import type { Generated, Selectable } from "kysely";

/** The build log of a deployment, one row per line, in `seq` order (migration 0006_build). */
export interface BuildLogsTable {
  id: Generated<number>;
  deployment_id: string;
  build_id: string;
  step: string;
  seq: number;
  line: string;
  created_at: number;
}
export type BuildLogLine = Selectable<BuildLogsTable>;
