/**
 * Raw-socket HTTP/1.1 abuse for the servers' robustness tests: seeded, bounded random and malformed
 * requests (request lines, paths, percent-encoding, headers, framing), and oversized bodies streamed
 * without holding them in memory, with the peak RSS growth of this process while they are sent.
 */
export * from "./http-fuzz/exchange.js";
export * from "./http-fuzz/large-body.js";
export * from "./http-fuzz/requests.js";
