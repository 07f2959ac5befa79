// The public JavaScript API (contract section 4), shared by the script tag and the
// npm package. It exists before the wasm does: calls made while the wasm loads are
// queued and replayed in order, so a host can call identify() in the same tick as the
// script tag runs.

const PREFIX = '[trickle]';

// Where the wasm leaves its idle hint, and the outbox (see src/runtime/mod.rs).
const IDLE_KEY = 'trickle:v1:idle';
const OUTBOX_KEY = 'trickle:v1:outbox';

/**
 * The config's fingerprint: FNV-1a (32 bits) over the UTF-16 code units of its JSON
 * text, as 8 hex digits; the wasm computes the same (`dom::fingerprint`).
 */
export function fingerprint(config) {
  const text = typeof config === 'string' ? config : JSON.stringify(config) ?? '';
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

function readJson(key) {
  try {
    return JSON.parse(localStorage.getItem(key));
  } catch {
    return null;
  }
}

// Resolves in a later task (a message to ourselves: not clamped like a nested
// setTimeout, nor deferred by the timer throttling of background tabs). Work split
// by it runs as several short tasks instead of one long one.
export function nextTask() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * The wasm's bytes, from the promise of its response. The wasm is compiled from
 * whole bytes rather than streamed: V8 decodes a streamed module on the main thread
 * as its bytes arrive, whole bytes on a background thread. On a slow phone the
 * streamed decode made the instantiating task a long one (measured at 4x CPU: that
 * task's CPU time fell from 18-23 ms to 3-8 ms).
 */
export function wasmBytes(response) {
  return response.then((r) => {
    if (!r.ok) throw new Error(`HTTP ${r.status} for ${r.url}`);
    return r.arrayBuffer();
  });
}

/** Report a failure the way contract section 5 asks: one console line, one event. */
export function report(code, message) {
  console.error(`${PREFIX} ${message}`);
  try {
    document.dispatchEvent(new CustomEvent('trickle:error', { detail: { code, message } }));
  } catch {
    // A host that broke CustomEvent still must not see an exception from us.
  }
}

/**
 * Build the API around `load(options)`, a function returning a promise of the wasm
 * exports; `options` are the second argument of the `init` that started it
 * (`{ wasmUrl }`: where the wasm is, for bundlers that do not ship `new URL` assets
 * and for a CDN).
 * Loading starts with `init` (or at once when `eager`), unless the idle gate holds:
 *
 * The idle gate (contract section 4). A page view that decided "nothing can be
 * shown" leaves a hint in storage (user, login count, config fingerprint, the
 * events that could change that; written by the wasm, the decision is Rust's). A
 * later page view with the same user, login count and config, and nothing queued,
 * does not download or start the wasm: it says `trickle:ready` and keeps the calls.
 * Anything that could change the decision (another user or login count, `track()`
 * of an event the hint lists, `explain()`) loads the wasm then, and the kept calls
 * are replayed in order.
 * A change of the user's marketing consent or of Global Privacy Control within one
 * login does not load it: either can only open a marketing question, which then
 * waits for the next login (it never makes the gate hide a question it must not).
 */
export function createApi(load, eager = false) {
  let exports = null;
  let dead = null;
  let loading = null;
  const queue = [];
  // The gate: the config `init` got, the user known so far (undefined: none given),
  // whether a decision is pending, and whether this page view stays idle.
  let gate = null;
  // The last user passed to identify() (null: signed out), for a gate made later.
  let knownUser;
  // The options of the first init() (see `load`).
  let loadOptions = {};

  // A trap inside the wasm (a bug) surfaces as a JS exception. It must not reach the
  // host's call stack, and the instance is not trusted afterwards. A panic (the
  // usual cause) was already reported by the wasm's panic hook, which also marked the
  // widget stopped; only a trap without one (e.g. out of memory) is reported here.
  const guard = (name, args, wasm = exports) => {
    if (dead) return undefined;
    try {
      return wasm[name](...args);
    } catch (e) {
      dead = e;
      let reported = false;
      try {
        reported = wasm.stopped();
      } catch {
        // the instance is broken beyond that: report here
      }
      if (!reported) report('internal', `stopped after an internal error in ${name}(): ${e && e.message}`);
      return undefined;
    }
  };

  const start = () => {
    // The download starts in a task of its own: the first fetch() of a page view
    // sets up the browser's fetching, and after init's first storage read (which
    // waits for the browser to load the page's storage) that made one task too long
    // on a slow phone.
    loading ??= nextTask()
      .then(() => load(loadOptions))
      // Compiling and instantiating the wasm is one task; reading the queued init's
      // config into the wasm (`readAhead`) is the next; the calls it replays (init
      // checking that config first) start in the one after. On a slow phone reading
      // and checking the config in one task made it a long one.
      .then((wasm) => nextTask().then(() => wasm))
      .then((wasm) => {
        const init = queue.find(([name]) => name === 'init');
        if (init && wasm.readAhead) guard('readAhead', init[1], wasm);
        return nextTask().then(() => wasm);
      })
      .then(
        (wasm) => {
          exports = wasm;
          for (const [name, args, settle, fail] of queue.splice(0)) {
            const out = guard(name, args);
            if (dead) fail(dead);
            else settle(out);
          }
        },
        (e) => {
          dead = e;
          report('load', `could not load the widget: ${e && e.message}`);
          for (const [, , , fail] of queue.splice(0)) fail(e);
        },
      );
    return loading;
  };
  if (eager) start();

  // After a failed load nothing will replay the queue: a later call fails at once.
  const later = (name, args) =>
    dead ? Promise.reject(dead) : new Promise((settle, fail) => {
      queue.push([name, args, settle, fail]);
      start();
    });
  // Kept for the wasm, without loading it (yet).
  const keep = (name, args) =>
    new Promise((settle, fail) => {
      queue.push([name, args, settle, fail]);
    });

  // Whether the stored hint says this page view can show nothing.
  const idleHolds = () => {
    const hint = readJson(IDLE_KEY);
    const outbox = readJson(OUTBOX_KEY);
    if (!hint || hint.config !== gate.fingerprint) return false;
    if (outbox && Array.isArray(outbox.queue) && outbox.queue.length) return false;
    const user = gate.user ?? null;
    if ((hint.user ?? null) !== (user ? user.id : null)) return false;
    return !user || (user.loginsCount ?? 0) === hint.logins;
  };
  const decide = () => {
    // destroy() meanwhile, or the wasm was started by another call.
    if (!gate || loading) return;
    gate.pending = false;
    if (!idleHolds()) {
      start();
      return;
    }
    gate.idle = true;
    gate.events = readJson(IDLE_KEY).events || [];
    // init succeeded (the same config was valid when the hint was written); its
    // entry stays queued so the wasm gets it if it loads later.
    for (const [name, , settle] of queue) if (name === 'init') settle(undefined);
    try {
      document.dispatchEvent(new CustomEvent('trickle:ready', { detail: {} }));
    } catch {
      // as in report()
    }
  };
  // Decided once the page's own scripts had their turn: identify() usually follows
  // init() in the same task or a later deferred script, and deferred scripts run
  // while readyState is already "interactive", before DOMContentLoaded (which cannot
  // be asked about afterwards): so DOMContentLoaded or load, whichever comes first.
  const decideSoon = () => {
    if (gate.pending) return;
    gate.pending = true;
    let once = false;
    const go = () => {
      if (once) return;
      once = true;
      setTimeout(decide, 0);
    };
    if (document.readyState === 'complete') {
      go();
    } else {
      document.addEventListener('DOMContentLoaded', go, { once: true });
      window.addEventListener('load', go, { once: true });
    }
  };
  const gated = () => gate && (gate.pending || gate.idle) && !loading;

  return {
    /**
     * Validate the config and start; rejects with the path-named error. `options`:
     * `{ wasmUrl }`, where to load the wasm from (before it has loaded).
     */
    init(config, options) {
      if (dead) return Promise.reject(dead);
      if (options != null && (typeof options !== 'object' || Array.isArray(options))) {
        return Promise.reject(new Error('init: the options must be an object like { wasmUrl }'));
      }
      if (!exports && !loading && options?.wasmUrl != null) {
        const url = options.wasmUrl;
        if (!(typeof url === 'string' || url instanceof URL) || String(url) === '') {
          return Promise.reject(new Error('init: options.wasmUrl must be a URL or a non-empty string'));
        }
        loadOptions = { wasmUrl: url };
      }
      if (!exports && !loading) {
        const user = config && typeof config === 'object' ? config.user : undefined;
        // As in the wasm: the config's user wins over one identified before init.
        gate = { fingerprint: fingerprint(config), user: user ?? knownUser, pending: false, idle: false, events: [] };
        const hint = readJson(IDLE_KEY);
        // No hint for this config: nothing to wait for, start at once.
        if (!hint || hint.config !== gate.fingerprint) return later('init', [config]);
        const kept = keep('init', [config]);
        decideSoon();
        return kept;
      }
      if (!exports) return later('init', [config]);
      const out = guard('init', [config]);
      // A trap inside init must reject, not resolve as if the widget had started.
      return dead ? Promise.reject(dead) : Promise.resolve(out);
    },
    /** Set or replace the user. */
    identify(user) {
      if (exports) return void guard('identify', [user]);
      if (!loading && (!gate || gated())) {
        keep('identify', [user]).catch(() => {});
        knownUser = user ?? null;
        if (!gate) return;
        gate.user = knownUser;
        // Signing out can show nothing; another user or login may.
        if (gate.idle && user != null && !idleHolds()) start();
        return;
      }
      later('identify', [user]).catch(() => {});
    },
    /** Mark an event for the current user. */
    track(eventName) {
      // Not String(x): track() with no argument must be reported as a missing name,
      // not tracked as an event called "undefined".
      const name = typeof eventName === 'string' ? eventName : '';
      if (exports) return void guard('track', [name]);
      if (!loading && (!gate || gated())) {
        keep('track', [name]).catch(() => {});
        // Only an event the hint lists can change the decision (an empty name is
        // the wasm's to report).
        if (gate && gate.idle && (!name || gate.events.includes(name))) start();
        return;
      }
      later('track', [name]).catch(() => {});
    },
    /**
     * The stage rule's view of every question. Before the wasm has loaded: a Promise
     * of it once `init` was called (it loads the wasm), null before that.
     */
    explain() {
      if (exports) return guard('explain', []) ?? null;
      return gate || loading ? later('explain', []) : null;
    },
    /** Remove every node, listener and timer; the outbox stays in storage. */
    destroy() {
      if (exports) return void guard('destroy', []);
      if (!loading) {
        // Nothing was started: forget the kept calls and the gate.
        queue.splice(0);
        gate = null;
        knownUser = undefined;
        return;
      }
      later('destroy', []).catch(() => {});
    },
  };
}
