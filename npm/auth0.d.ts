import type { User } from './index.js';

/** The claim namespace the Action of docs/auth0.md uses by default: `https://trickle.dev/`. */
export declare const DEFAULT_NAMESPACE: string;

/** The part of `@auth0/auth0-spa-js`'s `getUser()` result this helper reads. */
export interface Auth0User {
  /** The Auth0 user id (`auth0|...`). */
  sub?: string;
  /** The sign-in email (the `email` scope): copied into `profile.email`. */
  email?: string;
  /** Namespaced claims: `<ns>loginsCount`, `<ns>userHash`, `<ns>profile`. */
  [claim: string]: unknown;
}

/**
 * The argument of `identify` from a `getUser()` result carrying the Action's claims
 * (`loginsCount`, `userHash`, `profile` under `namespace`, default
 * `https://trickle.dev/`), with the sign-in `email` in `profile.email` unless the
 * profile has one. `null`/`undefined` (signed out) gives `null`.
 */
export declare function fromAuth0User(
  user: Auth0User | null | undefined,
  options?: { namespace?: string },
): User | null;
