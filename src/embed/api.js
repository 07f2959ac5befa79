// The public JavaScript API (contract section 4), shared by the script tag and the
// npm package. It exists before the wasm does: calls made while the wasm loads are
// queued and replayed in order, so a host can call identify() in the same tick as the
// script tag runs.

const PREFIX = '[trickle]';

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
 * Build the API around `load`, a function returning a promise of the wasm exports.
 * Loading starts on the first call (or at once when `eager`).
 */
export function createApi(load, eager = false) {
  let exports = null;
  let dead = null;
  let loading = null;
  const queue = [];

  // A trap inside the wasm (a bug) surfaces as a JS exception. It must not reach the
  // host's call stack, and the instance is not trusted afterwards. A panic (the
  // usual cause) was already reported by the wasm's panic hook, which also marked the
  // widget stopped; only a trap without one (e.g. out of memory) is reported here.
  const guard = (name, args) => {
    if (dead) return undefined;
    try {
      return exports[name](...args);
    } catch (e) {
      dead = e;
      let reported = false;
      try {
        reported = exports.stopped();
      } catch {
        // the instance is broken beyond that: report here
      }
      if (!reported) report('internal', `stopped after an internal error in ${name}(): ${e && e.message}`);
      return undefined;
    }
  };

  const start = () => {
    loading ??= Promise.resolve()
      .then(load)
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

  const later = (name, args) =>
    new Promise((settle, fail) => {
      queue.push([name, args, settle, fail]);
      start();
    });

  return {
    /** Validate the config and start; rejects with the path-named error. */
    init(config) {
      if (dead) return Promise.reject(dead);
      if (!exports) return later('init', [config]);
      const out = guard('init', [config]);
      // A trap inside init must reject, not resolve as if the widget had started.
      return dead ? Promise.reject(dead) : Promise.resolve(out);
    },
    /** Set or replace the user. */
    identify(user) {
      if (exports) guard('identify', [user]);
      else later('identify', [user]).catch(() => {});
    },
    /** Mark an event for the current user. */
    track(eventName) {
      // Not String(x): track() with no argument must be reported as a missing name,
      // not tracked as an event called "undefined".
      const name = typeof eventName === 'string' ? eventName : '';
      if (exports) guard('track', [name]);
      else later('track', [name]).catch(() => {});
    },
    /** The stage rule's view of every question; null until the wasm has loaded. */
    explain() {
      return exports ? guard('explain', []) ?? null : null;
    },
    /** Remove every node, listener and timer; the outbox stays in storage. */
    destroy() {
      if (exports) guard('destroy', []);
      else later('destroy', []).catch(() => {});
    },
  };
}
