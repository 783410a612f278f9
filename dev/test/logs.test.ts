import { describe, expect, it } from "vitest";
import { formatPinoLine, LogMux, redactSignatures, stripAnsi } from "../src/logs.js";

describe("formatPinoLine", () => {
  it("shortens a pino line to level, message and key=value pairs", () => {
    const line = JSON.stringify({
      level: 30,
      time: 1,
      pid: 2,
      hostname: "h",
      service: "ctrl-api",
      reqId: "req_1",
      projectId: "proj_1",
      msg: "upload url issued",
    });
    expect(formatPinoLine(line)).toBe("INFO  upload url issued reqId=req_1 projectId=proj_1");
  });

  it("quotes values with spaces and renders objects as JSON", () => {
    const line = JSON.stringify({
      level: 40,
      msg: "retrying",
      err: "connect ECONNREFUSED 127.0.0.1:9070",
      services: ["A", "B"],
      attempt: 3,
      ok: false,
    });
    expect(formatPinoLine(line)).toBe('WARN  retrying err="connect ECONNREFUSED 127.0.0.1:9070" services=["A","B"] attempt=3 ok=false');
  });

  it("adds the stack of an error object on the following lines for errors", () => {
    const line = JSON.stringify({
      level: 50,
      msg: "boom",
      err: { type: "Error", message: "bad thing", stack: "Error: bad thing\n    at x (y.ts:1:1)" },
    });
    expect(formatPinoLine(line)).toBe('ERROR boom err="bad thing"\nError: bad thing\n    at x (y.ts:1:1)');
  });

  it("leaves anything that is not a pino line alone", () => {
    for (const line of ["plain text", "{not json", '{"a":1}', "[restate] WARN: something", ""]) expect(formatPinoLine(line)).toBe(line);
  });
});

describe("LogMux", () => {
  it("prefixes each line with the aligned process name and splits multi-line output", () => {
    const out: string[] = [];
    const mux = new LogMux((t) => out.push(t), { colour: false, raw: false });
    mux.register("ctrl-worker");
    mux.line("s3", "listening");
    mux.line("ctrl-api", JSON.stringify({ level: 50, msg: "x", err: { message: "m", stack: "S1\nS2" } }));
    expect(out).toEqual(["s3          │ listening\n", "ctrl-api    │ ERROR x err=m\n", "ctrl-api    │ S1\n", "ctrl-api    │ S2\n"]);
  });

  it("strips ANSI codes without colours and keeps raw JSON when asked", () => {
    const out: string[] = [];
    const mux = new LogMux((t) => out.push(t), { colour: false, raw: true });
    mux.line("restate", "\x1b[31mERROR\x1b[0m thing");
    mux.line("api", '{"level":30,"msg":"hi"}');
    expect(out).toEqual(["restate │ ERROR thing\n", 'api     │ {"level":30,"msg":"hi"}\n']);
  });
});

describe("redaction", () => {
  it("removes signatures and credentials of presigned URLs", () => {
    const line = "info: builds/p/build_x.tar.gz?X-Amz-Credential=S3RVER%2F2026&X-Amz-Date=1&X-Amz-Signature=abc123&x-id=PutObject 200";
    expect(redactSignatures(line)).toBe(
      "info: builds/p/build_x.tar.gz?X-Amz-Credential=REDACTED&X-Amz-Date=1&X-Amz-Signature=REDACTED&x-id=PutObject 200",
    );
  });

  it("strips ANSI escape sequences", () => {
    expect(stripAnsi("\x1b[2m2026\x1b[0m \x1b[1;3;31mx\x1b[0m")).toBe("2026 x");
  });
});
