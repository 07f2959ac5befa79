/**
 * `fromAuth0User(user)`: turns `@auth0/auth0-spa-js`'s `getUser()` result (with
 * the claims the post-login Action of docs/auth0.md adds) into the argument of
 * Trickle's `identify`. `null`/`undefined` (signed out) gives `null`, which
 * `identify(null)` takes as signing out.
 *
 *   import { identify } from 'trickle-widget';
 *   import { fromAuth0User } from 'trickle-widget/auth0';
 *   identify(fromAuth0User(await auth0.getUser()));
 */
export const DEFAULT_NAMESPACE = 'https://trickle.dev/';

export function fromAuth0User(user, options = {}) {
  if (user == null) return null;
  const ns = options.namespace ?? DEFAULT_NAMESPACE;
  if (typeof user.sub !== 'string' || user.sub === '') {
    throw new TypeError('[trickle] fromAuth0User: the user has no "sub" (is it the getUser() result?)');
  }
  const out = { id: user.sub };
  const logins = user[`${ns}loginsCount`];
  if (Number.isInteger(logins) && logins >= 0) out.loginsCount = logins;
  const hash = user[`${ns}userHash`];
  if (typeof hash === 'string' && hash !== '') out.userHash = hash;
  const profile = user[`${ns}profile`];
  if (profile && typeof profile === 'object' && !Array.isArray(profile)) out.profile = { ...profile };
  // The sign-in email is profile data the site already has: its question is not
  // asked, and its domain lets the popup confirm the company instead of asking
  // (suggest: "emailDomain"; only the domain leaves the page). user_metadata's own
  // email, if any, wins.
  if (typeof user.email === 'string' && user.email !== '') {
    out.profile = { email: user.email, ...out.profile };
  }
  return out;
}
