import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import {
  findEnvironmentBySlug,
  findProjectById,
  listHostnamesOfDeployments,
  listProjectDeployments,
  listProjectEnvironments,
} from "@ctrl/db";
import type { ListDeploymentsRequest, ListDeploymentsResponseSchema } from "@ctrl/proto";
import { principalKey, requireProjectAccess } from "../../auth.js";
import { deploymentPermissions } from "../../deployment-model/access.js";
import { listLimits } from "../../deployment-model/defaults.js";
import { deploymentMessage } from "../../deployment-model/view.js";
import type { ApiDeps } from "../../deps.js";

/** The keyset position after the last item of a page, bound to the filter it was issued for. */
interface PageCursor {
  /** created_at of the last item */
  c: number;
  /** id of the last item (tie-break) */
  i: string;
  /** project and environment filter the token belongs to */
  p: string;
  e: string;
}

/** Encodes an opaque page token. */
export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** Decodes a page token, or throws invalid_argument when it is not one of ours for this filter. */
export function decodePageToken(token: string, projectId: string, environmentSlug: string): PageCursor {
  try {
    const cursor = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as PageCursor;
    if (typeof cursor.c === "number" && typeof cursor.i === "string" && cursor.p === projectId && cursor.e === environmentSlug)
      return cursor;
  } catch {
    // fall through
  }
  throw new ConnectError(
    "page_token is invalid or belongs to another query: pass the next_page_token of the previous page with the same filter",
    Code.InvalidArgument,
  );
}

/**
 * DeploymentService.ListDeployments: a project's deployments (optionally one environment's),
 * newest first, paginated by keyset on (created_at, id) with an opaque token. Page size 1..100
 * (0 = 50; larger values are capped at 100). Items carry hostnames, the environment's slug and
 * whether each is the project's live deployment, but not steps or regions.
 */
export async function listDeployments(
  deps: ApiDeps,
  req: ListDeploymentsRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof ListDeploymentsResponseSchema>> {
  const projectId = req.projectId.trim();
  if (!projectId) throw new ConnectError("project_id is required", Code.InvalidArgument);
  if (req.pageSize < 0) throw new ConnectError("page_size must not be negative", Code.InvalidArgument);
  const pageSize = Math.min(req.pageSize || listLimits.defaultPageSize, listLimits.maxPageSize);
  const environmentSlug = req.environmentSlug.trim();
  const cursor = req.pageToken ? decodePageToken(req.pageToken, projectId, environmentSlug) : undefined;

  const project = await findProjectById(deps.db, projectId);
  requireProjectAccess(ctx.values.get(principalKey), project, deploymentPermissions.read, `project ${projectId} not found`);
  let environmentId: string | undefined;
  if (environmentSlug) {
    const env = await findEnvironmentBySlug(deps.db, projectId, environmentSlug);
    if (!env) {
      const slugs = (await listProjectEnvironments(deps.db, projectId)).map((e) => e.slug);
      throw new ConnectError(
        `environment "${environmentSlug}" not found in project ${projectId}; its environments are: ${slugs.join(", ") || "(none)"}`,
        Code.NotFound,
      );
    }
    environmentId = env.id;
  }

  const rows = await listProjectDeployments(deps.db, {
    projectId,
    environmentId,
    before: cursor ? { createdAt: cursor.c, id: cursor.i } : undefined,
    limit: pageSize + 1,
  });
  const page = rows.slice(0, pageSize);
  const [hostnames, environments] = await Promise.all([
    listHostnamesOfDeployments(
      deps.db,
      page.map((r) => r.id),
    ),
    listProjectEnvironments(deps.db, projectId),
  ]);
  const slugs = new Map(environments.map((e) => [e.id, e.slug]));
  const last = page[page.length - 1];
  return {
    deployments: page.map((row) => ({
      ...deploymentMessage({ row, hostnames: hostnames.get(row.id) ?? [] }),
      environmentSlug: slugs.get(row.environment_id) ?? "",
      live: project?.live_deployment_id === row.id,
    })),
    nextPageToken:
      rows.length > pageSize && last ? encodePageToken({ c: last.created_at, i: last.id, p: projectId, e: environmentSlug }) : "",
  };
}
