import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { checkReportedAddress, type AgentPrincipal } from "./agent.js";

const agent: AgentPrincipal = {
  kind: "agent",
  credentialId: "agc_1",
  region: "local",
  advertiseHosts: ["127.0.0.1", "::1", "node-1.internal"],
  ports: { low: 20000, high: 29999 },
};
const check = (address: string): Code | undefined => {
  try {
    checkReportedAddress(agent, address, "update.instances[0].address");
    return undefined;
  } catch (err) {
    return ConnectError.from(err).code;
  }
};

describe("checkReportedAddress", () => {
  it.each(["127.0.0.1:20000", "127.0.0.1:29999", "[::1]:25000", "node-1.internal:20001", ""])(
    "accepts %j (the credential's host, a port of its range, or no address yet)",
    (address) => {
      expect(check(address)).toBeUndefined();
    },
  );

  // Each row is an address that would let a report point the edge somewhere the agent does not run.
  it.each([
    "127.0.0.1:9070", // Restate admin
    "127.0.0.1:7070", // ctrl-api
    "127.0.0.1:19999",
    "127.0.0.1:30000",
    "10.0.0.1:20000", // another host
    "localhost:20000",
    "127.0.0.1",
    "127.0.0.1:",
    "127.0.0.1:abc",
    "127.0.0.1:020000x",
    "::1:20000", // IPv6 without brackets
    "http://127.0.0.1:20000",
    "127.0.0.1:20000/path",
    " 127.0.0.1:20000",
  ])("refuses %j with invalid_argument", (address) => {
    expect(check(address)).toBe(Code.InvalidArgument);
  });

  it("names the field and the address", () => {
    try {
      checkReportedAddress(agent, "127.0.0.1:9070", "update.instances[3].address");
      expect.unreachable();
    } catch (err) {
      expect(ConnectError.from(err).rawMessage).toMatch(
        /^update\.instances\[3\]\.address "127\.0\.0\.1:9070": port 9070 is outside .* 20000-29999$/,
      );
    }
  });
});
