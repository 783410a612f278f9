import { createRootKey } from "./api-keys.js";
import { newId } from "./ids.js";
import type { Db } from "./pool.js";

/** What {@link seedLocal} created. `rootKey` is the plaintext key, shown once. */
export interface SeedResult {
  workspaceId: string;
  projectId: string;
  environments: { production: string; preview: string };
  rootKey: string;
  created: boolean;
}

/**
 * Seeds a local workspace `local` with project `hello`, environments `production` and `preview`, and
 * a root key with `project.*.*` and `workspace.*` (so the local user can create projects and keys).
 * Idempotent for the workspace/project; a new key is minted each run
 * (keys are stored hashed, so an old one cannot be shown again).
 */
export async function seedLocal(db: Db, now = Date.now()): Promise<SeedResult> {
  return db.transaction().execute(async (trx) => {
    let workspace = await trx.selectFrom("workspaces").selectAll().where("slug", "=", "local").executeTakeFirst();
    const created = !workspace;
    if (!workspace) {
      workspace = { id: newId("ws"), name: "Local", slug: "local", created_at: now, updated_at: now };
      await trx.insertInto("workspaces").values(workspace).execute();
    }
    let project = await trx
      .selectFrom("projects")
      .select("id")
      .where("workspace_id", "=", workspace.id)
      .where("slug", "=", "hello")
      .executeTakeFirst();
    if (!project) {
      project = { id: newId("proj") };
      await trx
        .insertInto("projects")
        .values({
          id: project.id,
          workspace_id: workspace.id,
          name: "hello",
          slug: "hello",
          live_deployment_id: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
    }
    const environments: Record<string, string> = {};
    for (const slug of ["production", "preview"]) {
      let env = await trx
        .selectFrom("environments")
        .select("id")
        .where("project_id", "=", project.id)
        .where("slug", "=", slug)
        .executeTakeFirst();
      if (!env) {
        env = { id: newId("env") };
        await trx
          .insertInto("environments")
          .values({ id: env.id, workspace_id: workspace.id, project_id: project.id, slug, regions: null, created_at: now, updated_at: now })
          .execute();
      }
      environments[slug] = env.id;
    }
    const { key } = await createRootKey(trx, {
      workspaceId: workspace.id,
      name: "local root key",
      permissions: ["project.*.*", "workspace.*"],
      now,
    });
    return {
      workspaceId: workspace.id,
      projectId: project.id,
      environments: { production: environments.production!, preview: environments.preview! },
      rootKey: key,
      created,
    };
  });
}
