/**
 * True for an origin-form request target (`/path?query`), the only form a reverse proxy forwards.
 * Absolute-form (`http://other/x`), authority-form and `*` would otherwise reach the upstream client
 * library, which throws on them (a 502 for what is the caller's mistake) or, worse, honours the host.
 */
export function isOriginForm(target: string | undefined): boolean {
  return target !== undefined && target.startsWith("/");
}

/** The 400 body for a target that is not origin-form. */
export const notOriginFormMessage = "the request target must be a path starting with / (origin-form)";
