/** What composition roots and tests need to configure DomainVerificationService. */
export type { DomainVerificationDeps } from "./deps.js";
export { defaultDomainVerification } from "./deps.js";
export { lookupTxt, describeMiss, type TxtLookup } from "./lookup.js";
