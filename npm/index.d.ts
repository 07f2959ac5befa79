// Types for trickle-widget. They mirror contract section 1 (config) and section 4 (API);
// crates/core/config.schema.json is the machine-readable form of the same config.

/** Text shown to users: one string, or one per BCP 47 locale (`{ en: "...", de: "..." }`). */
export type Text = string | Record<string, string>;

/** The kinds of question. */
export type QuestionKind =
  | 'text' | 'email' | 'tel' | 'url' | 'number' | 'date' | 'choice' | 'multichoice';

/** A preset answer of a choice or multichoice question. */
export interface Choice {
  /** What is stored; unique within the question. */
  value: string;
  /** What the user sees. */
  label: Text;
}

/** One profile question. */
export interface Question {
  /** Unique across the whole config. */
  id: string;
  /** Dot path into the profile (`company.role`); unique across the config. */
  field: string;
  kind: QuestionKind;
  prompt: Text;
  /** choice / multichoice only; non-empty; values unique. */
  options?: Choice[];
  /** choice / multichoice: adds a free-text "Other" answer. */
  allowOther?: boolean;
  /** Offers "Prefer not to say" (stored, never asked again). */
  declinable?: boolean;
  /** Why we ask; shown on request. */
  why?: Text;
  /** Text kinds: longest answer in characters; default 200, at most 2000. */
  maxLength?: number;
  /**
   * What the answer is for; default "profile". A "marketing" question is not asked
   * when `user.consent.marketing` is false or the browser sends Global Privacy Control.
   */
  purpose?: 'profile' | 'marketing';
  /**
   * Kind text only: offer the company guessed from the user's work email to confirm
   * ("Do you work at Northwind?") when the profile read (`profileUrl`) suggests one.
   */
  suggest?: 'emailDomain';
}

/** A group of questions due from a login count or an event. */
export interface Stage {
  id: string;
  /** Reached when `loginsCount >= minLogins`. */
  minLogins?: number;
  /** Tracked events that also reach the stage. */
  events?: string[];
  questions: Question[];
}

/** The signed-in user. */
export interface User {
  /** The host's stable user id; non-empty. */
  id: string;
  /** Logins so far (Auth0's logins_count); integer >= 0. */
  loginsCount?: number;
  /** Fields already known; nested objects for dot paths. */
  profile?: Record<string, unknown>;
  /** Hex HMAC-SHA256(secret, id), computed by the host's server. */
  userHash?: string;
  /** What the user agreed to; `marketing: false`: no marketing question is asked. */
  consent?: { marketing?: boolean };
}

/** The widget config (contract section 1). Unknown keys are rejected. */
export interface Config {
  /** https:// URL, or a path on the page's origin; http:// only for localhost. */
  endpoint: string;
  /** Extra request headers (never a secret server key). */
  headers?: Record<string, string>;
  user?: User;
  /**
   * Where the server-kept profile and prompt state are read after `init` and
   * `identify` (`{userId}` is replaced by the URL-encoded id), so a user is not asked
   * again on a second device. Same URL rules as `endpoint`.
   */
  profileUrl?: string;
  stages: Stage[];
  cadence?: {
    /** Default 3. */
    maxQuestionsPerLogin?: number;
    /** Default 1. */
    snoozeLogins?: number;
    /** Default 3. */
    maxAsks?: number;
  };
  placement?: 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left';
  /** BCP 47; picks translations and the text direction. Default "en". */
  locale?: string;
  theme?: { accent?: string; colorScheme?: 'auto' | 'light' | 'dark' };
  /** One `[trickle]` console line per decision. */
  debug?: boolean;
}

/** Why a question is not open. */
export type Reason =
  | 'known' | 'declined' | 'snoozed' | 'stage-not-reached' | 'max-asks' | 'cap-reached' | 'no-user'
  | 'no-consent' | 'privacy-signal';

/** What `explain()` returns. */
export interface Explanation {
  questions: Array<{
    questionId: string;
    stage: string;
    field: string;
    open: boolean;
    /** null when open. */
    reason: Reason | null;
  }>;
  /** Answers waiting in the outbox. */
  queued: number;
  /** Answers the endpoint refused for good (a final 4xx). */
  deadLetter: unknown[];
}

/** Where `init` loads the wasm from. */
export interface InitOptions {
  /**
   * The URL of `trickle.wasm` (this package's `trickle-widget/trickle.wasm`). Needed
   * with bundlers that do not ship `new URL(..., import.meta.url)` assets (esbuild,
   * Rollup without a plugin), and to serve the wasm from a CDN.
   */
  wasmUrl?: string | URL;
}

/** Validates the config and starts; rejects with an Error naming the bad path. */
export function init(config: Config, options?: InitOptions): Promise<void>;
/** Sets or replaces the user; `null` signs out (the popup goes, queued answers are still sent). */
export function identify(user: User | null): void;
/** Marks an event for the current user (reaches stages that list it). */
export function track(eventName: string): void;
/**
 * The stage rule's view of every question. Before the wasm has loaded (an idle page
 * view starts none until needed), a Promise of it; null before `init`. Await it.
 */
export function explain(): Explanation | Promise<Explanation> | null;
/** Removes every node, listener and timer it added; the outbox stays in storage. */
export function destroy(): void;

/** Details of the events dispatched on `document`. */
export interface TrickleEventMap {
  'trickle:ready': CustomEvent<Record<string, never>>;
  'trickle:shown': CustomEvent<{ questionId: string; stage: string; field: string }>;
  'trickle:answered': CustomEvent<{ id: string; questionId: string; stage: string; field: string; value: string | number | string[] }>;
  'trickle:declined': CustomEvent<{ id: string; questionId: string; stage: string; field: string }>;
  'trickle:snoozed': CustomEvent<{ id: string; questionId: string; stage: string; field: string }>;
  'trickle:delivered': CustomEvent<{ ids: string[] }>;
  'trickle:error': CustomEvent<{ code: string; message: string }>;
}

declare global {
  interface DocumentEventMap extends TrickleEventMap {}
}
