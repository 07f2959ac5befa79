// One driver interface over three browser engines, so e2e/engines.test.mjs keeps a
// single scenario list. Each engine module (chromium.mjs, firefox.mjs, webkit.mjs)
// exports `launch()` resolving to a raw driver:
//
//   name, version                 the engine and the browser version it drives
//   goto(url), reload()           navigate; resolve once the load event has fired
//   evaluate(fn, arg)             run a self-contained function in the page, JSON in/out
//   mouseClick(x, y)              a real pointer click at viewport coordinates
//   type(text), press(key)        real key input to the focused element
//                                 (key: 'Tab', 'Enter' or 'Escape')
//   screenshot(path)              the viewport, as PNG
//   records()                     (a promise of) { console: [{ type, text }], pageErrors: [] }
//                                 since the last reset
//   reset()                       forget records (and, where cheap, the browser context)
//   close()
//
// `wrap()` adds what is the same in every engine: finding by role and name (or a
// selector) inside the popup's open shadow root, clicking what was found at its centre
// (so each engine's own hit testing decides what is clicked), focus, and the CSP
// violations and trickle:* events that e2e/engines/pages/record.js collects in the page.
// Finding runs in the page rather than through each protocol's locators: WebDriver
// classic has no role locator, and one implementation means one meaning of "named".

export const ENGINES = ['chromium', 'firefox', 'webkit'];

/** The raw driver of `engine`, wrapped. Throws with a setup hint if its browser is missing. */
export async function launch(engine) {
  const { launch: start } = await import(`./${engine}.mjs`);
  return wrap(await start());
}

/**
 * In the page: the first visible element matching `query` inside the popup's shadow
 * root (`{ role, name }` or `{ css }`), or in the host document (`{ host: css }`),
 * described as plain data. Self-contained: it is serialized into the page.
 */
export function describeIn(query) {
  const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();
  const shadow = document.querySelector('[data-trickle-host]')?.shadowRoot ?? null;
  const byId = (root, id) => (root.getElementById ? root.getElementById(id) : root.querySelector(`#${CSS.escape(id)}`));
  const roleOf = (el) => {
    const explicit = el.getAttribute('role');
    if (explicit) return explicit;
    const tag = el.tagName.toLowerCase();
    if (tag === 'button') return 'button';
    if (tag === 'textarea') return 'textbox';
    if (tag === 'input') {
      const type = (el.getAttribute('type') || 'text').toLowerCase();
      if (['text', 'email', 'tel', 'url', 'search'].includes(type)) return 'textbox';
      if (['button', 'submit', 'reset'].includes(type)) return 'button';
      return type;
    }
    return '';
  };
  const nameOf = (el) => {
    const root = el.getRootNode();
    const labelledby = el.getAttribute('aria-labelledby');
    if (labelledby) {
      return norm(labelledby.split(/\s+/).map((id) => byId(root, id)?.textContent ?? '').join(' '));
    }
    if (el.hasAttribute('aria-label')) return norm(el.getAttribute('aria-label'));
    if (el.labels?.length) return norm([...el.labels].map((l) => l.textContent).join(' '));
    return roleOf(el) === 'button' ? norm(el.textContent) : '';
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && !el.closest('[hidden]');
  };
  let candidates = [];
  if (query.host) candidates = [...document.querySelectorAll(query.host)];
  else if (!shadow) return null;
  else if (query.css) candidates = [...shadow.querySelectorAll(query.css)];
  else candidates = [...shadow.querySelectorAll('*')].filter((el) => roleOf(el) === query.role);
  const el = candidates.find((c) => visible(c) && (query.name === undefined || nameOf(c) === norm(query.name)));
  if (!el) return null;
  const r = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    role: roleOf(el),
    name: nameOf(el),
    rect: { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height },
    direction: style.direction,
    position: style.position,
    viewport: { width: document.documentElement.clientWidth, height: document.documentElement.clientHeight },
  };
}

/** In the page: the focused element, looking into the popup's shadow root, as "tag:name". */
export function focusedIn() {
  const outer = document.activeElement;
  const el = outer?.shadowRoot?.activeElement || outer;
  if (!el) return '';
  const label = el.id || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40);
  return `${el.tagName.toLowerCase()}:${label}`;
}

async function poll(fn, what, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const show = (q) => (q.host ? `host ${q.host}` : q.css ? `popup ${q.css}` : `${q.role}${q.name === undefined ? '' : ` "${q.name}"`}`);

/** The engine-neutral driver: the raw one plus finding, clicking and the page's records. */
export function wrap(raw) {
  const d = {
    ...raw,
    /** The element matching `query` now, or null. */
    find: (query) => raw.evaluate(describeIn, query),
    /** Wait until `query` matches; its description. */
    waitFor: (query, ms = 15000) => poll(() => raw.evaluate(describeIn, query), show(query), ms),
    /** Wait until nothing matches `query`. */
    waitGone: (query, ms = 15000) =>
      poll(async () => (await raw.evaluate(describeIn, query)) === null, `${show(query)} to go`, ms),
    /** Wait for `query`, then click its centre with a real pointer. */
    async click(query) {
      const { rect } = await d.waitFor(query);
      await raw.mouseClick(rect.left + rect.width / 2, rect.top + rect.height / 2);
    },
    focused: () => raw.evaluate(focusedIn),
    /** Press Tab until `want(focused)` holds (at most `max` times); the focused description. */
    async tabTo(want, max = 12) {
      let now = await d.focused();
      for (let i = 0; i < max && !want(now); i++) {
        await raw.press('Tab');
        now = await d.focused();
      }
      if (!want(now)) throw new Error(`Tab did not reach the wanted control; focus is on ${now}`);
      return now;
    },
    /** CSP violations the page saw (securitypolicyviolation, recorded by record.js). */
    csp: () => raw.evaluate(() => window.__trickle?.csp ?? null),
    /** trickle:* events the page saw, optionally of one type. */
    async events(type) {
      const all = (await raw.evaluate(() => window.__trickle?.events ?? [])) || [];
      return type ? all.filter((e) => e.type === `trickle:${type}`) : all;
    },
    waitUntil: (fn, what, ms = 15000) => poll(fn, what, ms),
  };
  return d;
}
