// What the three engine drivers share.

/** Every engine renders the page at this viewport, so their screenshots compare. */
export const VIEWPORT = { width: 1024, height: 730 };

/** A thrown Error saying which browser is missing and how to get it. */
export function missing(what, path, pkg) {
  return new Error(
    `${what} not found at ${path}: the engine tests need Debian's ${pkg} ` +
      '(./scripts/setup.sh installs it; CI runs it first)',
  );
}
