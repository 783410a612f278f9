import { connect } from "node:net";

/** Options of {@link sendLargeBody}. */
export interface LargeBodyOptions {
  port: number;
  method?: string;
  path: string;
  /** Header lines (`name: value`) besides Host and the framing header. */
  headers?: string[];
  /** Total bytes offered (the body is produced from one repeated chunk, never held whole). */
  totalBytes: number;
  /** Declare `Content-Length: totalBytes` (default) or send `Transfer-Encoding: chunked`. */
  framing?: "content-length" | "chunked";
  /** The repeated chunk (default 64 KiB of `a`). */
  chunk?: Buffer;
  timeoutMs?: number;
}

/** What {@link sendLargeBody} saw. */
export interface LargeBodyResult {
  status: number | undefined;
  /** The reply (headers and body) as text, up to 64 KiB. */
  reply: string;
  /** Body bytes this side wrote before the server answered or closed. */
  bytesWritten: number;
  /** The largest growth of this process's RSS over its value before sending, sampled every 5 ms. */
  peakRssGrowth: number;
}

/**
 * Streams a large body to `path` and stops as soon as the server answers (or closes), measuring this
 * process's peak RSS growth meanwhile: with the server in-process, that bounds what it buffered.
 */
export function sendLargeBody(options: LargeBodyOptions): Promise<LargeBodyResult> {
  const chunk = options.chunk ?? Buffer.alloc(64 * 1024, "a");
  const chunked = options.framing === "chunked";
  const head = [
    `${options.method ?? "POST"} ${options.path} HTTP/1.1`,
    ...((options.headers ?? []).some((h) => /^host:/i.test(h)) ? [] : ["Host: localhost"]),
    ...(options.headers ?? []),
    chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${options.totalBytes}`,
    "",
    "",
  ].join("\r\n");
  const chunkHead = Buffer.from(`${chunk.length.toString(16)}\r\n`);
  const crlf = Buffer.from("\r\n");
  return new Promise((resolve) => {
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    const received: Buffer[] = [];
    let answered = false;
    let bytesWritten = 0;
    let done = false;
    const socket = connect({ host: "127.0.0.1", port: options.port });
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(sampler);
      clearTimeout(timer);
      socket.destroy();
      peak = Math.max(peak, process.memoryUsage.rss());
      const reply = Buffer.concat(received).toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(reply);
      resolve({ status: m ? Number(m[1]) : undefined, reply, bytesWritten, peakRssGrowth: peak - baseline });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 30_000);
    const pump = () => {
      while (!answered && !socket.destroyed && bytesWritten < options.totalBytes) {
        bytesWritten += chunk.length;
        const ok = chunked ? (socket.write(chunkHead), socket.write(chunk), socket.write(crlf)) : socket.write(chunk);
        if (!ok) return void socket.once("drain", pump);
      }
      if (!answered && !socket.destroyed && chunked) socket.write("0\r\n\r\n");
    };
    socket.on("data", (data: Buffer) => {
      answered = true;
      received.push(data);
      // The whole reply is in once its body is: stop at the first response (headers and a short body).
      const text = Buffer.concat(received).toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (length && text.length >= end + 4 + Number(length[1])) finish();
      if (!length && /\r\ntransfer-encoding: *chunked/i.test(text.slice(0, end)) && text.endsWith("0\r\n\r\n")) finish();
    });
    socket.on("error", () => {});
    socket.on("close", finish);
    socket.on("connect", () => {
      socket.write(head);
      pump();
    });
  });
}
