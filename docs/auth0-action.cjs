/**
 * Auth0 post-login Action for Trickle (docs/auth0.md). It puts what the widget's
 * `identify` needs into the ID token, as namespaced custom claims:
 *
 *   <ns>loginsCount  event.stats.logins_count
 *   <ns>userHash     hex HMAC-SHA256(TRICKLE_SECRET, user_id): the collector checks it
 *   <ns>profile      the user's user_metadata (where the collector's Auth0 sink writes answers)
 *
 * Secrets (Actions > this Action > Secrets): TRICKLE_SECRET (the collector's secret).
 * Optional secret TRICKLE_CLAIM_NAMESPACE (default "https://trickle.dev/"): Auth0
 * only lets custom claims through under a namespace of your own.
 */
const crypto = require('node:crypto');

const DEFAULT_NAMESPACE = 'https://trickle.dev/';

exports.onExecutePostLogin = async (event, api) => {
  const secret = event.secrets && event.secrets.TRICKLE_SECRET;
  const ns = (event.secrets && event.secrets.TRICKLE_CLAIM_NAMESPACE) || DEFAULT_NAMESPACE;
  const userId = event.user.user_id;
  api.idToken.setCustomClaim(`${ns}loginsCount`, event.stats ? event.stats.logins_count : 0);
  api.idToken.setCustomClaim(`${ns}profile`, event.user.user_metadata || {});
  // Without the secret no hash: the collector then answers 401 rather than
  // trusting an unsigned user id.
  if (secret) {
    const userHash = crypto.createHmac('sha256', secret).update(userId, 'utf8').digest('hex');
    api.idToken.setCustomClaim(`${ns}userHash`, userHash);
  }
};
