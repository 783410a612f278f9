export * from "./provider.js";
export { createChalltestsrvProvider } from "./challtestsrv.js";
export { createCloudflareProvider, type CloudflareOptions } from "./cloudflare.js";
