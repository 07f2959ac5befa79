//! Simulated users for the demo (`demo-users`) and the admin page's benchmark
//! (`admin-bench`): what a population of signed-in users would post over their
//! first logins, as envelopes of contract section 3, for any config.
//!
//! Each user logs in a few times (fewer users the more logins), spread over the
//! last 30 days; at each login the stages they reached ask their open questions.
//! Earlier questions and easier kinds are answered more often; a declinable one
//! is sometimes declined; the rest are put off ("Not now") and maybe answered at
//! a later login. Choices favour the first options, and "Other" gets a few
//! recurring free texts. Seeded: the same seed gives the same users.

use serde_json::{json, Value};
use trickle_core::config::{Config, Kind, Question};

const DAY_MS: i64 = 86_400_000;

/// Free texts typed under "Other" for a role, most frequent first.
const OTHER_ROLES: &[&str] = &[
    "Founder",
    "Freelancer",
    "Consultant",
    "Student",
    "Contractor",
];
/// And for anything else (an industry, say).
const OTHER_TEXTS: &[&str] = &[
    "Consulting",
    "Healthcare",
    "Logistics",
    "Non-profit",
    "Government",
    "Manufacturing",
];

/// One simulated user and the envelope they would have posted (all their
/// responses in one, oldest first).
pub struct SimulatedUser {
    /// `sim-00001`, ...
    pub user_id: String,
    /// The envelope (`userHash` left out).
    pub envelope: Value,
    /// How many responses it holds.
    pub responses: usize,
}

/// `count` users under `config`, their logins ending before `now_ms`.
pub fn simulate(config: &Config, count: usize, now_ms: i64, seed: u64) -> Vec<SimulatedUser> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..count)
        .map(|n| simulate_one(config, n, now_ms, &mut rng))
        .collect()
}

fn simulate_one(config: &Config, n: usize, now_ms: i64, rng: &mut fastrand::Rng) -> SimulatedUser {
    let user_id = format!("sim-{:05}", n + 1);
    // 1 login: 30%, 2: 25%, 3: 20%, 4 to 6: 25%.
    let logins: u32 = match rng.u32(0..100) {
        0..30 => 1,
        30..55 => 2,
        55..75 => 3,
        _ => rng.u32(4..=6),
    };
    // Logins a day or three apart, the last one inside the last 30 days.
    let span_days = i64::from(logins) * 2;
    let first_login = now_ms - rng.i64(0..(30 - span_days).max(1)) * DAY_MS - span_days * DAY_MS
        + rng.i64(0..DAY_MS);
    let mut answers = Vec::new();
    let mut settled: Vec<&str> = Vec::new();
    for login in 1..=logins {
        let at_login =
            (first_login + i64::from(login - 1) * rng.i64(DAY_MS..3 * DAY_MS)).min(now_ms - 60_000);
        let mut shown = 0;
        'login: for stage in config.stages.iter().filter(|s| s.min_logins <= login) {
            for (position, question) in stage.questions.iter().enumerate() {
                if shown >= config.cadence.max_questions_per_login {
                    break 'login;
                }
                if settled.contains(&question.id.as_str()) {
                    continue;
                }
                shown += 1;
                let at = at_login + i64::from(shown) * rng.i64(5_000..60_000);
                // Later questions in a stage, and personal kinds, are answered less.
                let willing = 88u32
                    .saturating_sub(8 * position as u32)
                    .saturating_sub(reluctance(question.kind));
                let roll = rng.u32(0..100);
                let (status, value, other) = if roll < willing {
                    let (value, other) = value_for(question, n, rng);
                    ("answered", Some(value), other)
                } else if question.declinable && roll < willing + 12 {
                    ("declined", None, false)
                } else {
                    ("snoozed", None, false)
                };
                answers.push(answer(
                    rng, question, &stage.id, status, value, other, at, login,
                ));
                if status == "snoozed" {
                    // "Not now" ends the questions for this login.
                    break 'login;
                }
                settled.push(&question.id);
            }
        }
    }
    let responses = answers.len();
    SimulatedUser {
        envelope: json!({
            "userId": user_id,
            "answers": answers,
            "context": { "url": "https://app.example.com/dashboard", "locale": "en", "widget": "trickle/sim" }
        }),
        user_id,
        responses,
    }
}

/// How much less often a kind is answered (percentage points).
fn reluctance(kind: Kind) -> u32 {
    match kind {
        Kind::Tel => 30,
        Kind::Date => 20,
        Kind::Text | Kind::Email | Kind::Url => 10,
        Kind::Number | Kind::Choice | Kind::Multichoice => 0,
    }
}

#[allow(clippy::too_many_arguments)]
fn answer(
    rng: &mut fastrand::Rng,
    question: &Question,
    stage: &str,
    status: &str,
    value: Option<Value>,
    other: bool,
    at_ms: i64,
    logins_count: u32,
) -> Value {
    let mut answer = json!({
        "id": uuid(rng),
        "questionId": question.id,
        "stage": stage,
        "field": question.field,
        "status": status,
        "other": other,
        "answeredAt": trickle_core::time::format_rfc3339_millis(at_ms),
        "loginsCount": logins_count,
    });
    if let Some(value) = value {
        answer["value"] = value;
    }
    answer
}

/// A random (version 4) UUID.
fn uuid(rng: &mut fastrand::Rng) -> String {
    let bits = rng.u128(..) & !(0xf << 76) & !(0x3 << 62) | (0x4 << 76) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// An option index favouring the first options (weights 1, 1/2, 1/3, ...).
fn skewed(rng: &mut fastrand::Rng, options: usize) -> usize {
    let weights: Vec<f64> = (1..=options).map(|i| 1.0 / i as f64).collect();
    let mut pick = rng.f64() * weights.iter().sum::<f64>();
    for (i, w) in weights.iter().enumerate() {
        if pick < *w {
            return i;
        }
        pick -= w;
    }
    options - 1
}

fn value_for(question: &Question, n: usize, rng: &mut fastrand::Rng) -> (Value, bool) {
    let options = &question.options;
    match question.kind {
        Kind::Choice if question.allow_other && rng.u32(0..100) < 12 => {
            let texts = if question.field.ends_with("role") {
                OTHER_ROLES
            } else {
                OTHER_TEXTS
            };
            let text = texts[skewed(rng, texts.len())];
            (json!(text), true)
        }
        Kind::Choice => (json!(options[skewed(rng, options.len())].value), false),
        Kind::Multichoice => {
            let mut picked: Vec<&str> = options
                .iter()
                .filter(|_| rng.u32(0..100) < 45)
                .map(|o| o.value.as_str())
                .collect();
            if picked.is_empty() {
                picked.push(&options[skewed(rng, options.len())].value);
            }
            (json!(picked), false)
        }
        Kind::Email => (json!(format!("user{}@example.com", n + 1)), false),
        Kind::Tel => (json!(format!("+49 30 {:07}", n + 1)), false),
        Kind::Url => (json!(format!("https://example.com/u/{}", n + 1)), false),
        Kind::Number => (json!(rng.u32(1..500)), false),
        Kind::Date => (
            json!(format!(
                "{}-{:02}-{:02}",
                rng.u32(1955..2005),
                rng.u32(1..=12),
                rng.u32(1..=28)
            )),
            false,
        ),
        Kind::Text => (json!(format!("{} {}", question.id, n + 1)), false),
    }
}
