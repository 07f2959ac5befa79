//! Who may post and read: the per-user HMAC (contract section 6) and the admin
//! bearer token of the CSV export. Every comparison is constant-time so a caller
//! cannot learn a valid hash or token byte by byte from response timings.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The shared secret the host's server uses to sign user ids.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A secret from its raw bytes (the `TRICKLE_SECRET` string as UTF-8).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// `hex(HMAC-SHA256(secret, user_id))`: what a host's server hands the widget.
    pub fn sign(&self, user_id: &str) -> String {
        hex::encode(self.mac(user_id).finalize().into_bytes())
    }

    /// Whether `user_hash` is the hex HMAC of `user_id`. Hex is accepted in either
    /// case; anything that is not hex of the right length fails.
    pub fn verify(&self, user_id: &str, user_hash: Option<&str>) -> bool {
        let Some(hash) = user_hash else {
            return false;
        };
        let Ok(bytes) = hex::decode(hash.trim()) else {
            return false;
        };
        // `verify_slice` compares in constant time (and rejects a wrong length).
        self.mac(user_id).verify_slice(&bytes).is_ok()
    }

    fn mac(&self, user_id: &str) -> HmacSha256 {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = match HmacSha256::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("unreachable: HMAC accepts keys of any length"),
        };
        mac.update(user_id.as_bytes());
        mac
    }
}

impl std::fmt::Debug for Secret {
    // Never print the secret itself, not even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The admin bearer token that guards `GET /v1/export.csv`.
#[derive(Clone)]
pub struct AdminToken([u8; 32]);

impl AdminToken {
    /// Keeps only the SHA-256 of the token, so comparing is over fixed-length
    /// digests and the length of the real token does not leak through timing.
    pub fn new(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// Whether an `Authorization` header value is `Bearer <this token>`.
    pub fn verify_header(&self, authorization: Option<&str>) -> bool {
        authorization
            .and_then(strip_bearer)
            .is_some_and(|given| self.verify(given))
    }

    /// Whether `given` is this token (the password of `GET /admin`'s Basic auth).
    pub fn verify(&self, given: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        constant_time_eq(&digest, &self.0)
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

fn strip_bearer(value: &str) -> Option<&str> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ')?;
    // The auth scheme is case-insensitive (RFC 9110 section 11.1).
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold into an early exit.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_matches_an_independently_computed_hmac() {
        // printf 'auth0|5f7c8ec7' | openssl dgst -sha256 -hmac 'topsecret'
        let expected = "6bb01132be2c76b61e9c58282fe3be0e9d4b06bf8908c15ec9714310adb67445";
        let secret = Secret::new("topsecret");
        assert_eq!(secret.sign("auth0|5f7c8ec7"), expected);
        assert!(secret.verify("auth0|5f7c8ec7", Some(expected)));
        assert!(secret.verify("auth0|5f7c8ec7", Some(&expected.to_uppercase())));
    }

    #[test]
    fn verify_refuses_missing_malformed_and_foreign_hashes() {
        let secret = Secret::new("topsecret");
        let good = secret.sign("alice");
        assert!(!secret.verify("alice", None));
        assert!(!secret.verify("alice", Some("")));
        assert!(!secret.verify("alice", Some("not hex")));
        assert!(!secret.verify("alice", Some(&good[..62])));
        assert!(!secret.verify("bob", Some(&good)));
        assert!(!Secret::new("other").verify("alice", Some(&good)));
    }

    #[test]
    fn admin_token_needs_the_bearer_scheme_and_the_exact_token() {
        let token = AdminToken::new("s3cret-admin");
        assert!(token.verify_header(Some("Bearer s3cret-admin")));
        assert!(token.verify_header(Some("bearer  s3cret-admin ")));
        assert!(!token.verify_header(Some("s3cret-admin")));
        assert!(!token.verify_header(Some("Basic s3cret-admin")));
        assert!(!token.verify_header(Some("Bearer s3cret-admi")));
        assert!(!token.verify_header(None));
    }
}
