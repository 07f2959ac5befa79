// PostHog surveys as an npm user ships them: posthog-js bundled into the app (the
// bench bundles this file with esbuild, minified), the surveys code lazy-loaded by
// posthog-js itself from <api_host>/static/surveys.js. Defaults otherwise; the user is
// identified as on a signed-in page, like Trickle's `user` in its config.
import posthog from 'posthog-js';

posthog.init('phc_bench', {
  api_host: location.origin,
  person_profiles: 'identified_only',
});
posthog.identify(new URLSearchParams(location.search).get('user') || 'bench|0');
