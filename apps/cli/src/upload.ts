import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import http from "node:http";
import https from "node:https";

/**
 * PUTs `file` to a presigned URL, streaming it with an exact Content-Length, and reports the bytes
 * sent as they go. Rejects with the storage's status and the start of its answer on failure.
 */
export async function uploadFile(url: string, file: string, onProgress: (sent: number, total: number) => void): Promise<{ bytes: number }> {
  const { size } = await stat(file);
  const target = new URL(url);
  const transport = target.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      target,
      { method: "PUT", headers: { "content-length": String(size), "content-type": "application/gzip" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          if (res.statusCode && res.statusCode >= 200 && res.statusCode < 300) resolve({ bytes: size });
          else
            reject(new Error(`upload failed: storage answered ${res.statusCode} ${Buffer.concat(chunks).toString("utf8").slice(0, 300)}`));
        });
        res.on("error", reject);
      },
    );
    req.on("error", (err) => reject(new Error(`upload failed: ${err.message}`)));
    let sent = 0;
    const body = createReadStream(file);
    body.on("data", (chunk) => {
      sent += chunk.length;
      onProgress(sent, size);
    });
    body.on("error", (err) => req.destroy(err));
    body.pipe(req);
  });
}
