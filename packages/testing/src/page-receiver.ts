/**
 * A local HTTP receiver that records every page the halt supervisor sends (PagerDuty Events v2
 * bodies on /pagerduty, Slack `{text}` on /slack). Real HTTP, no mocks.
 */
import { createServer, type Server } from "node:http";

/** One recorded POST. */
export interface RecordedPage {
  path: string;
  body: Record<string, unknown>;
}

/** A running receiver. */
export interface PageReceiver {
  pages: RecordedPage[];
  pagerDutyUrl: string;
  slackUrl: string;
  /** PagerDuty events (trigger/resolve) with `dedup_key` = `<deployment>:<reason>`. */
  pagerDuty(dedupKey?: string): Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts a receiver on a free loopback port. */
export async function startPageReceiver(): Promise<PageReceiver> {
  const pages: RecordedPage[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        pages.push({ path: req.url ?? "", body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown> });
      } catch {
        pages.push({ path: req.url ?? "", body: {} });
      }
      res.writeHead(202, { "content-type": "application/json" }).end('{"status":"success"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    pages,
    pagerDutyUrl: `${base}/pagerduty`,
    slackUrl: `${base}/slack/T000/B000/secret`,
    pagerDuty: (dedupKey) =>
      pages.filter((p) => p.path === "/pagerduty" && (!dedupKey || p.body.dedup_key === dedupKey)).map((p) => p.body),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
