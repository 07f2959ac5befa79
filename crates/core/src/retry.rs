//! Retry policy for delivering answers: which HTTP results are worth retrying,
//! and how long to wait (exponential backoff with jitter and a cap).

/// Jittered exponential backoff: the n-th retry waits about `base * 2^(n-1)`,
/// at most `max_delay_ms`, spread by a caller-supplied jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first retry's delay before jitter, in milliseconds.
    pub base_ms: u64,
    /// No delay exceeds this, jitter included.
    pub max_delay_ms: u64,
}

/// 2 s, 4 s, 8 s ... up to 5 minutes.
impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_ms: 2_000,
            max_delay_ms: 5 * 60_000,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1 = after the first failure).
    /// `jitter` in 0..=1 (out-of-range and NaN are clamped) spreads the delay over
    /// its upper half: never less than half the exponential step, so a fleet of
    /// widgets that failed together neither retries in lockstep nor hammers a
    /// recovering endpoint.
    pub fn delay_ms(&self, attempt: u32, jitter: f64) -> u64 {
        let exp = attempt.saturating_sub(1).min(40);
        let step = self
            .base_ms
            .saturating_mul(1u64 << exp)
            .min(self.max_delay_ms);
        let jitter = if jitter.is_nan() {
            1.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        let half = step / 2;
        // half + jitter * (step - half): between step/2 and step.
        half + ((step - half) as f64 * jitter) as u64
    }
}

/// Whether an HTTP status is worth retrying: 408, 429, 5xx, and anything outside
/// the known classes. Success, a redirect (never followed, contract section 3) and
/// other 4xx are not.
pub fn is_retryable(status: u16) -> bool {
    match status {
        200..=399 => false,
        408 | 429 => true,
        400..=499 => false,
        _ => true,
    }
}
