import { createReadStream } from "node:fs";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { Parser, type ReadEntry } from "tar";
import { ExtractError } from "../errors.js";
import type { ExtractLimits } from "../extract.js";
import { checkEntry, fileTypes, type CheckedEntry } from "./entries.js";

/** First pass: decompress (counting bytes), parse headers, check each entry and the limits. */
export async function scan(file: string, lim: ExtractLimits): Promise<CheckedEntry[]> {
  const entries: CheckedEntry[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  let failure: ExtractError | undefined;
  // Headers, padding and pax records on top of the file bodies; a stream past this is a bomb.
  const streamCap = lim.maxExtractedBytes + (lim.maxFiles + 16) * 4096;

  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      entry.resume();
      if (failure) return;
      try {
        const checked = checkEntry(entry);
        if (entries.length >= lim.maxFiles) {
          throw new ExtractError("too_many_files", `archive has more than ${lim.maxFiles} entries (limit maxFiles)`, checked.raw);
        }
        if (checked.path !== "" && seen.has(checked.path)) {
          throw new ExtractError("duplicate_entry", `entry ${JSON.stringify(checked.raw)} appears twice`, checked.raw);
        }
        seen.add(checked.path);
        if (fileTypes.has(checked.type)) {
          bytes += checked.size;
          if (bytes > lim.maxExtractedBytes) {
            throw new ExtractError(
              "extracted_too_large",
              `archive unpacks to more than ${lim.maxExtractedBytes} bytes (limit maxExtractedBytes, reached at ${JSON.stringify(checked.raw)})`,
              checked.raw,
            );
          }
        }
        entries.push(checked);
      } catch (err) {
        failure = err as ExtractError;
        parser.abort(failure);
      }
    },
  });
  const parserErrors: Error[] = [];
  parser.on("error", (err: Error) => parserErrors.push(err));
  parser.on("warn", (code: string, message: string | Error) => parserErrors.push(new Error(`${code}: ${String(message)}`)));

  const meter = decompressionMeter(streamCap);
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (failure) return cb(failure);
      parser.write(chunk);
      cb(failure ?? null);
    },
    final(cb) {
      parser.end(() => cb(failure ?? null));
    },
  });
  try {
    await pipeline(createReadStream(file), createGunzip(), meter, sink);
  } catch (err) {
    throw failure ?? toExtractError(err);
  }
  if (failure) throw failure;
  if (parserErrors.length) throw toExtractError(parserErrors[0]);
  return entries;
}

/**
 * Passes the decompressed tar stream through, failing once it exceeds `streamCap` bytes or when
 * it starts with another compressed stream (which the parser would decompress past our count).
 */
function decompressionMeter(streamCap: number): Transform {
  let streamed = 0;
  let first = true;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (first) {
        first = false;
        // A compressed payload inside the gzip would be decompressed again by the parser, past our count.
        if (
          (chunk[0] === 0x1f && chunk[1] === 0x8b) ||
          (chunk[0] === 0x28 && chunk[1] === 0xb5 && chunk[2] === 0x2f && chunk[3] === 0xfd)
        ) {
          return cb(new ExtractError("corrupt", "archive is compressed twice (a compressed stream inside the gzip)"));
        }
      }
      streamed += chunk.length;
      if (streamed > streamCap) {
        return cb(
          new ExtractError(
            "extracted_too_large",
            `archive decompresses to more than ${streamCap} bytes (limit maxExtractedBytes plus headers)`,
          ),
        );
      }
      cb(null, chunk);
    },
  });
}

/** Any error of reading or parsing the archive, as an {@link ExtractError}. */
export function toExtractError(err: unknown): ExtractError {
  if (err instanceof ExtractError) return err;
  const e = err as NodeJS.ErrnoException & { tarCode?: string };
  const message = e?.message ?? String(err);
  if (e?.code === "Z_DATA_ERROR" || e?.code === "Z_BUF_ERROR" || e?.code === "ERR_STREAM_PREMATURE_CLOSE") {
    return new ExtractError("corrupt", `archive is corrupt or truncated: ${message}`);
  }
  return new ExtractError("corrupt", `archive could not be read: ${e?.tarCode ? `${e.tarCode} ` : ""}${message}`);
}
