import { describe, expect, it } from "vitest";
import { hashKey, hasProjectPermission, hasWorkspacePermission, permissionCovers, rootKeyPrefix } from "./api-keys.js";

describe("hasProjectPermission", () => {
  const p1 = "proj_1111aaaa";
  const p2 = "proj_2222bbbb";
  const action = "generate_upload_url";

  // [permissions, projectId, action, granted]: each row is a guarantee of the permission model
  // `project.<id|*>.<action|*>` (docs/architecture.md section 3).
  const matrix: [string[], string, string, boolean][] = [
    [["project.*.*"], p1, action, true],
    [["project.*.generate_upload_url"], p1, action, true],
    [[`project.${p1}.generate_upload_url`], p1, action, true],
    [[`project.${p1}.*`], p1, action, true],
    [[`project.${p1}.generate_upload_url`], p2, action, false],
    [[`project.${p1}.*`], p2, action, false],
    [["project.*.read_deployment"], p1, action, false],
    [["project.*.read_deployment", `project.${p1}.generate_upload_url`], p1, action, true],
    [["project.*.read_deployment", `project.${p1}.generate_upload_url`], p2, action, false],
    [[], p1, action, false],
    // Malformed or foreign permissions grant nothing.
    [["*"], p1, action, false],
    [["project.*"], p1, action, false],
    [["project"], p1, action, false],
    [[""], p1, action, false],
    [["project.*.*.extra"], p1, action, false],
    [["workspace.*.*"], p1, action, false],
    [["Project.*.*"], p1, action, false],
    [["project.*.Generate_Upload_Url"], p1, action, false],
    [["project.*.generate_upload_url "], p1, action, false],
    [[" project.*.generate_upload_url"], p1, action, false],
    // A prefix of the id or of the action is not a match.
    [["project.proj_1111.*"], p1, action, false],
    [["project.*.generate"], p1, action, false],
  ];

  it.each(matrix)("%j on %s for %s → %s", (permissions, projectId, act, granted) => {
    expect(hasProjectPermission(permissions, projectId, act)).toBe(granted);
  });

  it("does not let an empty project id match an empty id segment", () => {
    expect(hasProjectPermission(["project..generate_upload_url"], "", action)).toBe(false);
  });
});

describe("hashKey", () => {
  it("is the sha256 hex digest", () => {
    expect(hashKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("is stable and distinguishes keys that differ in one character", () => {
    const key = `${rootKeyPrefix}abcdef`;
    expect(hashKey(key)).toBe(hashKey(key));
    expect(hashKey(key)).not.toBe(hashKey(`${rootKeyPrefix}abcdeg`));
    expect(hashKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashKey(key)).not.toContain("abcdef");
  });
});

describe("hasWorkspacePermission", () => {
  it("grants workspace.<action> and workspace.*, nothing else", () => {
    expect(hasWorkspacePermission(["workspace.create_project"], "create_project")).toBe(true);
    expect(hasWorkspacePermission(["workspace.*"], "manage_keys")).toBe(true);
    expect(hasWorkspacePermission(["workspace.create_project"], "manage_keys")).toBe(false);
    expect(hasWorkspacePermission(["project.*.*"], "create_project")).toBe(false);
    expect(hasWorkspacePermission(["workspace.*.x"], "create_project")).toBe(false);
    expect(hasWorkspacePermission(["workspace.*"], "")).toBe(false);
  });
});

describe("permissionCovers", () => {
  it("covers a permission held exactly or through * segments of the same shape", () => {
    expect(permissionCovers(["project.*.*"], "project.proj_1.read_deployment")).toBe(true);
    expect(permissionCovers(["project.proj_1.*"], "project.proj_2.read_deployment")).toBe(false);
    expect(permissionCovers(["project.proj_1.read_deployment"], "project.*.read_deployment")).toBe(false);
    expect(permissionCovers(["workspace.*"], "workspace.manage_keys")).toBe(true);
    expect(permissionCovers(["workspace.*"], "project.*.*")).toBe(false);
    expect(permissionCovers(["*.*.*"], "project.x.y")).toBe(false);
  });
});
