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

/**
 * The driver of a Playwright or Puppeteer page (the two share these page methods):
 * `page()` gives the current page, `fresh` starts a clean one, `records()` what it
 * recorded.
 */
export function pageDriver({ name, version, page, records, fresh, browser }) {
  return {
    name,
    version,
    goto: (url) => page().goto(url),
    reload: () => page().reload(),
    evaluate: (fn, arg) => page().evaluate(fn, arg),
    mouseClick: (x, y) => page().mouse.click(x, y),
    type: (text) => page().keyboard.type(text),
    press: (key) => page().keyboard.press(key),
    screenshot: (path) => page().screenshot({ path }),
    records,
    reset: fresh,
    close: () => browser.close(),
  };
}
