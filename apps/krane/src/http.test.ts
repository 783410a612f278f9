import { describe, expect, it } from "vitest";
import { createAgentHttpServer } from "./http.js";

describe("agent http endpoint", () => {
  it("serves health openly, status and logs behind the bearer token, and validates ?lines", async () => {
    const server = createAgentHttpServer({
      token: "secret-token-0123456789",
      status: () => ({ region: "local" }),
      logs: async (instance, lines) => (instance === "d_1-0" ? Array.from({ length: lines }, (_, i) => `l${i}`) : undefined),
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const auth = { authorization: "Bearer secret-token-0123456789" };
    try {
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect((await fetch(`${url}/status`)).status).toBe(401);
      expect((await fetch(`${url}/logs/d_1-0`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      expect(await (await fetch(`${url}/status`, { headers: auth })).json()).toEqual({ region: "local" });
      const logs = await fetch(`${url}/logs/d_1-0?lines=3`, { headers: auth });
      expect(await logs.text()).toBe("l0\nl1\nl2\n");
      expect((await fetch(`${url}/logs/d_1-0`, { headers: auth })).status).toBe(200);
      expect((await fetch(`${url}/logs/nope-0`, { headers: auth })).status).toBe(404);
      for (const bad of ["0", "-1", "abc", "1.5", "10001"])
        expect((await fetch(`${url}/logs/d_1-0?lines=${bad}`, { headers: auth })).status).toBe(400);
      expect((await fetch(`${url}/status`, { method: "POST", headers: auth })).status).toBe(405);
    } finally {
      server.close();
    }
  });
});
