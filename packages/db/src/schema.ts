import type { AgentCredentialsTable } from "./tables/agent-credentials.js";
import type { AcmeChallengesTable } from "./tables/acme-challenges.js";
import type { AcmeUsersTable } from "./tables/acme-users.js";
import type { ApiKeysTable } from "./tables/api-keys.js";
import type { CertificatesTable } from "./tables/certificates.js";
import type { CustomDomainsTable } from "./tables/custom-domains.js";
import type { DeploymentRolloutsTable, RegionTrafficSplitsTable } from "./tables/deployment-rollouts.js";
import type { DeploymentStepsTable } from "./tables/deployment-steps.js";
import type { DeploymentTopologyTable } from "./tables/deployment-topology.js";
import type { DeploymentsTable } from "./tables/deployments.js";
import type { EnvironmentVariablesTable } from "./tables/environment-variables.js";
import type { EnvironmentsTable } from "./tables/environments.js";
import type { FrontlineRoutesTable } from "./tables/frontline-routes.js";
import type { InstancesTable } from "./tables/instances.js";
import type { ProjectsTable } from "./tables/projects.js";
import type { RegionVersionsTable } from "./tables/region-versions.js";
import type { SentinelsTable } from "./tables/sentinels.js";
import type { BuildLogsTable } from "./tables/build-logs.js";
import type { BuildsTable } from "./tables/builds.js";
import type { SentinelRolloutsTable, SentinelRolloutTargetsTable } from "./tables/sentinel-rollouts.js";
import type { WorkspacesTable } from "./tables/workspaces.js";

/** The kysely database type: every table of ARCHITECTURE.md section 3. */
export interface Database {
  workspaces: WorkspacesTable;
  projects: ProjectsTable;
  environments: EnvironmentsTable;
  environment_variables: EnvironmentVariablesTable;
  deployments: DeploymentsTable;
  deployment_steps: DeploymentStepsTable;
  deployment_topology: DeploymentTopologyTable;
  deployment_rollouts: DeploymentRolloutsTable;
  region_traffic_splits: RegionTrafficSplitsTable;
  sentinels: SentinelsTable;
  region_versions: RegionVersionsTable;
  instances: InstancesTable;
  frontline_routes: FrontlineRoutesTable;
  custom_domains: CustomDomainsTable;
  acme_challenges: AcmeChallengesTable;
  acme_users: AcmeUsersTable;
  certificates: CertificatesTable;
  api_keys: ApiKeysTable;
  agent_credentials: AgentCredentialsTable;
  builds: BuildsTable;
  build_logs: BuildLogsTable;
  sentinel_rollouts: SentinelRolloutsTable;
  sentinel_rollout_targets: SentinelRolloutTargetsTable;
}
