// Loaded first by host.html in every engine, before the widget: records trickle:*
// events and CSP violations in the page, so each engine is checked the same way and
// no protocol-specific init script is needed (WebDriver classic has none). Console
// errors and uncaught errors are recorded too: WebDriver classic has no console API,
// so that is how the WebKit driver sees them.
(() => {
  const rec = { events: [], csp: [], console: [], pageErrors: [] };
  window.__trickle = rec;
  for (const name of ['ready', 'shown', 'answered', 'declined', 'snoozed', 'delivered', 'error']) {
    document.addEventListener(`trickle:${name}`, (e) =>
      rec.events.push({ type: e.type, detail: JSON.parse(JSON.stringify(e.detail ?? null)) }),
    );
  }
  document.addEventListener('securitypolicyviolation', (e) =>
    rec.csp.push(`${e.violatedDirective} ${e.blockedURI}`),
  );
  for (const type of ['error', 'warn']) {
    const original = console[type];
    console[type] = function (...args) {
      rec.console.push({ type: type === 'warn' ? 'warning' : type, text: args.map(String).join(' ') });
      return original.apply(this, args);
    };
  }
  window.addEventListener('error', (e) => rec.pageErrors.push(String(e.error ?? e.message)));
  window.addEventListener('unhandledrejection', (e) => rec.pageErrors.push(String(e.reason)));
})();
