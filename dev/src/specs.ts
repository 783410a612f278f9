import type { StepSpec } from "./runner.js";
import { ctrlApiSpec, ctrlWorkerSpec, frontlineSpec, kraneSpec } from "./specs/apps.js";
import { stackContext, type StackSettings } from "./specs/context.js";
import { mysqlSpec, restateSpec, s3Spec } from "./specs/infra.js";
import { agentCredentialSpec, migrateSpec, seedSpec, sentinelArtifactSpec } from "./specs/tasks.js";

export { localInstancePorts, localS3, stackContext, stackUrls, type StackContext, type StackSettings } from "./specs/context.js";
export { restateIdentityOf, restateToml } from "./specs/restate-config.js";

/**
 * The local stack as a declarative list. Order in the list is only the order of the summary; the
 * start order comes from `after`, and stop is the reverse of start. To add a process (krane, frontline,
 * pebble…), append a `service` entry: command, env, ports, readiness, and what it comes after. To add a
 * one-shot step (packing the sentinel artifact…), append a `task` whose value later entries read from
 * `outputs` in an `env` function.
 */
export function stackSpecs(s: StackSettings): StepSpec[] {
  const c = stackContext(s);
  return [
    mysqlSpec(c),
    restateSpec(c),
    s3Spec(c),
    migrateSpec(c),
    seedSpec(c),
    agentCredentialSpec(c),
    sentinelArtifactSpec(c),
    ctrlWorkerSpec(c),
    ctrlApiSpec(c),
    kraneSpec(c),
    frontlineSpec(c),
    ...c.acme.steps,
  ];
}
