import type { ServiceImpl } from "@connectrpc/connect";
import type { DeploymentService } from "@ctrl/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ApiDeps } from "../../deps.js";
import { createS3UploadUrl } from "./create-s3-upload-url.js";

const notYet = (method: string) => () => {
  throw new ConnectError(`${method} is not implemented yet`, Code.Unimplemented);
};

/** DeploymentService: one file per method in this folder. */
export function createDeploymentService(deps: ApiDeps): ServiceImpl<typeof DeploymentService> {
  return {
    createS3UploadURL: (req, ctx) => createS3UploadUrl(deps, req, ctx),
    createDeployment: notYet("CreateDeployment"),
    getDeployment: notYet("GetDeployment"),
    rollback: notYet("Rollback"),
    promote: notYet("Promote"),
    listDeployments: notYet("ListDeployments"),
    // eslint-disable-next-line require-yield
    watchDeployment: async function* () {
      throw new ConnectError("WatchDeployment is not implemented yet", Code.Unimplemented);
    },
  };
}
