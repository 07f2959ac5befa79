//! What the page shows, computed from the config and the store's aggregates
//! ([`Report`]): rows in config order, with labels, shares and rates. Plain data,
//! so the numbers are tested without HTML or SVG.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;
use trickle_core::answer::Status;
use trickle_core::config::{Config, Kind, Question};

use crate::store::report::{Report, ReportQuery, MS_PER_DAY};

/// How many days the answers-per-day chart covers, today included.
pub const DAYS_SHOWN: i64 = 30;
/// How many of the most frequent "Other" texts a distribution lists.
pub const TOP_OTHER: usize = 5;

/// The whole page's data.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    /// Users with anything stored.
    pub known_users: u64,
    /// Responses stored, all questions and statuses.
    pub responses: u64,
    /// One row per configured field, in config order.
    pub fields: Vec<FieldRow>,
    /// One row per stage, in config order.
    pub stages: Vec<StageRow>,
    /// One row per configured question, in config order.
    pub questions: Vec<QuestionRow>,
    /// One per choice or multichoice question, in config order.
    pub choices: Vec<Distribution>,
    /// The last [`DAYS_SHOWN`] days, oldest first, days without answers included.
    pub days: Vec<DayRow>,
}

/// How full one field is.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRow {
    /// The field's dot path.
    pub field: String,
    /// The question that asks for it.
    pub prompt: String,
    /// Known users with a value for it.
    pub users: u64,
    /// `users` over the known users (0 when there are none).
    pub share: f64,
}

/// One stage of the funnel.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRow {
    /// The stage id.
    pub stage: String,
    /// Its `minLogins`.
    pub min_logins: u32,
    /// How many questions it asks.
    pub questions: usize,
    /// Users who responded to at least one of its questions (a snooze counts).
    pub reached: u64,
    /// Users who answered or declined every one of its questions.
    pub completed: u64,
}

/// Responses to one question.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionRow {
    /// The question id.
    pub id: String,
    /// Its stage.
    pub stage: String,
    /// Its prompt in the config's locale.
    pub prompt: String,
    /// Answers given.
    pub answered: u64,
    /// "Prefer not to say".
    pub declined: u64,
    /// "Not now" (or closed).
    pub snoozed: u64,
}

impl QuestionRow {
    /// All responses.
    pub fn total(&self) -> u64 {
        self.answered + self.declined + self.snoozed
    }

    /// Answers over all responses; `None` without any response.
    pub fn answer_rate(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| self.answered as f64 / total as f64)
    }
}

/// What a choice question's answers were.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// The question id.
    pub question_id: String,
    /// Its prompt.
    pub prompt: String,
    /// Whether several options may be picked (shares then add up to over 100%).
    pub multiple: bool,
    /// Answers to the question.
    pub answers: u64,
    /// Each option in config order: its label and how many answers picked it.
    pub options: Vec<(String, u64)>,
    /// Answers with free text under "Other" (or a value no longer an option).
    pub other: u64,
    /// The most frequent free texts, most frequent first (ties by text).
    pub top_other: Vec<(String, u64)>,
    /// Whether the question offers "Other" (or "Other" answers exist).
    pub shows_other: bool,
}

/// Responses on one UTC day.
#[derive(Debug, Clone, PartialEq)]
pub struct DayRow {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Answers given.
    pub answered: u64,
    /// Declines.
    pub declined: u64,
    /// Snoozes.
    pub snoozed: u64,
}

/// What to ask the store for a dashboard whose last day is the one holding `now_ms`.
pub fn query(config: &Config, now_ms: i64) -> ReportQuery {
    let today = now_ms.div_euclid(MS_PER_DAY);
    ReportQuery {
        questions: config.questions().map(|(_, q)| q.id.clone()).collect(),
        choice_questions: config
            .questions()
            .filter(|(_, q)| q.kind.is_choice())
            .map(|(_, q)| q.id.clone())
            .collect(),
        first_day: today - (DAYS_SHOWN - 1),
        last_day: today,
    }
}

impl Dashboard {
    /// The page's data from the store's `report`, labelled by `config`, with the
    /// last day the one holding `now_ms`.
    pub fn new(config: &Config, report: &Report, now_ms: i64) -> Self {
        let locale = config.locale.as_str();
        let field_users: HashMap<&str, u64> = report
            .fields
            .iter()
            .map(|row| (row.field.as_str(), row.users))
            .collect();
        let fields = config
            .questions()
            .map(|(_, q)| {
                let users = field_users.get(q.field.as_str()).copied().unwrap_or(0);
                FieldRow {
                    field: q.field.clone(),
                    prompt: q.prompt.resolve(locale).to_owned(),
                    users,
                    share: ratio(users, report.known_users),
                }
            })
            .collect();

        let stages = config
            .stages
            .iter()
            .map(|stage| {
                let n = stage.questions.len() as u64;
                let rows = report
                    .stages
                    .iter()
                    .filter(|row| row.stage == stage.id && row.responded);
                let (reached, completed) = rows.fold((0, 0), |(reached, completed), row| {
                    let done = if row.settled >= n { row.users } else { 0 };
                    (reached + row.users, completed + done)
                });
                StageRow {
                    stage: stage.id.clone(),
                    min_logins: stage.min_logins,
                    questions: stage.questions.len(),
                    reached,
                    completed,
                }
            })
            .collect();

        let mut responses = 0;
        let mut by_question: HashMap<&str, [u64; 3]> = HashMap::new();
        for row in &report.responses {
            responses += row.count;
            by_question.entry(&row.question_id).or_default()[status_index(row.status)] += row.count;
        }
        let questions = config
            .questions()
            .map(|(stage, q)| {
                let [answered, declined, snoozed] =
                    by_question.get(q.id.as_str()).copied().unwrap_or_default();
                QuestionRow {
                    id: q.id.clone(),
                    stage: stage.id.clone(),
                    prompt: q.prompt.resolve(locale).to_owned(),
                    answered,
                    declined,
                    snoozed,
                }
            })
            .collect();

        let choices = config
            .questions()
            .filter(|(_, q)| q.kind.is_choice())
            .map(|(_, q)| distribution(q, report, locale))
            .collect();

        Self {
            known_users: report.known_users,
            responses,
            fields,
            stages,
            questions,
            choices,
            days: days(report, now_ms),
        }
    }
}

fn distribution(question: &Question, report: &Report, locale: &str) -> Distribution {
    let mut picked: HashMap<&str, u64> = HashMap::new();
    let mut free: BTreeMap<String, u64> = BTreeMap::new();
    let mut answers = 0;
    let mut other = 0;
    for row in report
        .choices
        .iter()
        .filter(|row| row.question_id == question.id)
    {
        answers += row.count;
        // A value that is not JSON of the right shape was not written by this
        // collector; it still counts as an answer, under "Other".
        let values: Vec<String> = match serde_json::from_str::<Json>(&row.value) {
            Ok(Json::String(s)) => vec![s],
            Ok(Json::Array(items)) => items
                .into_iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let mut counted_other = false;
        for value in values {
            // Under "Other" a single choice holds free text, even if it happens to
            // spell an option; a multichoice holds its options plus one free text.
            let option = question
                .option(&value)
                .filter(|_| question.kind == Kind::Multichoice || !row.other);
            match option {
                Some(option) => *picked.entry(option.value.as_str()).or_default() += row.count,
                None => {
                    *free.entry(value).or_default() += row.count;
                    counted_other = true;
                }
            }
        }
        if counted_other {
            other += row.count;
        }
    }
    let mut top_other: Vec<(String, u64)> = free.into_iter().collect();
    // Most frequent first; the BTreeMap's text order breaks ties (a stable sort).
    top_other.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    top_other.truncate(TOP_OTHER);
    Distribution {
        question_id: question.id.clone(),
        prompt: question.prompt.resolve(locale).to_owned(),
        multiple: question.kind == Kind::Multichoice,
        answers,
        options: question
            .options
            .iter()
            .map(|option| {
                (
                    option.label.resolve(locale).to_owned(),
                    picked.get(option.value.as_str()).copied().unwrap_or(0),
                )
            })
            .collect(),
        other,
        top_other,
        shows_other: question.allow_other || other > 0,
    }
}

fn days(report: &Report, now_ms: i64) -> Vec<DayRow> {
    let today = now_ms.div_euclid(MS_PER_DAY);
    let first = today - (DAYS_SHOWN - 1);
    let mut counts: HashMap<i64, [u64; 3]> = HashMap::new();
    for row in &report.days {
        counts.entry(row.day).or_default()[status_index(row.status)] += row.count;
    }
    (first..=today)
        .map(|day| {
            let [answered, declined, snoozed] = counts.get(&day).copied().unwrap_or_default();
            DayRow {
                date: date_of(day),
                answered,
                declined,
                snoozed,
            }
        })
        .collect()
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01.
fn date_of(day: i64) -> String {
    trickle_core::time::format_rfc3339_millis(day * MS_PER_DAY)
        .map(|ts| ts[..10].to_owned())
        .unwrap_or_default()
}

fn status_index(status: Status) -> usize {
    match status {
        Status::Answered => 0,
        Status::Declined => 1,
        Status::Snoozed => 2,
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::report::{ChoiceValue, DayResponses, FieldUsers, Responses, StageSettled};

    fn config() -> Config {
        Config::from_json(
            r#"{
              "endpoint": "/v1/answers",
              "stages": [
                { "id": "basics", "minLogins": 1, "questions": [
                  { "id": "name", "field": "name", "kind": "text", "prompt": "Name?" },
                  { "id": "role", "field": "company.role", "kind": "choice", "prompt": "Role?",
                    "options": [ { "value": "junior", "label": "Junior" }, { "value": "senior", "label": "Senior" } ],
                    "allowOther": true }
                ] },
                { "id": "more", "minLogins": 2, "questions": [
                  { "id": "tools", "field": "tools", "kind": "multichoice", "prompt": "Tools?",
                    "options": [ { "value": "a", "label": "Tool A" }, { "value": "b", "label": "Tool B" } ],
                    "allowOther": true }
                ] }
              ]
            }"#,
        )
        .unwrap()
    }

    const NOW: i64 = 20_000 * MS_PER_DAY + 5_000;

    #[test]
    fn shares_are_over_known_users_and_a_field_without_answers_is_zero() {
        let report = Report {
            known_users: 4,
            fields: vec![FieldUsers {
                field: "name".into(),
                users: 3,
            }],
            ..Report::default()
        };
        let dashboard = Dashboard::new(&config(), &report, NOW);
        let shares: Vec<_> = dashboard
            .fields
            .iter()
            .map(|f| (f.field.as_str(), f.users, f.share))
            .collect();
        assert_eq!(
            shares,
            [
                ("name", 3, 0.75),
                ("company.role", 0, 0.0),
                ("tools", 0, 0.0)
            ]
        );
    }

    #[test]
    fn a_stage_is_completed_by_users_who_settled_all_its_questions() {
        let report = Report {
            stages: vec![
                StageSettled {
                    stage: "basics".into(),
                    settled: 0,
                    responded: true,
                    users: 5,
                },
                // Responses only to questions no longer configured: not reached.
                StageSettled {
                    stage: "basics".into(),
                    settled: 0,
                    responded: false,
                    users: 4,
                },
                StageSettled {
                    stage: "basics".into(),
                    settled: 1,
                    responded: true,
                    users: 3,
                },
                StageSettled {
                    stage: "basics".into(),
                    settled: 2,
                    responded: true,
                    users: 2,
                },
                StageSettled {
                    stage: "more".into(),
                    settled: 1,
                    responded: true,
                    users: 1,
                },
            ],
            ..Report::default()
        };
        let dashboard = Dashboard::new(&config(), &report, NOW);
        let funnel: Vec<_> = dashboard
            .stages
            .iter()
            .map(|s| (s.stage.as_str(), s.reached, s.completed))
            .collect();
        assert_eq!(funnel, [("basics", 10, 2), ("more", 1, 1)]);
    }

    #[test]
    fn answer_rate_is_answers_over_all_responses_and_none_without_any() {
        let report = Report {
            responses: vec![
                Responses {
                    question_id: "name".into(),
                    status: Status::Answered,
                    count: 3,
                },
                Responses {
                    question_id: "name".into(),
                    status: Status::Snoozed,
                    count: 1,
                },
                Responses {
                    question_id: "gone".into(),
                    status: Status::Answered,
                    count: 7,
                },
            ],
            ..Report::default()
        };
        let dashboard = Dashboard::new(&config(), &report, NOW);
        assert_eq!(dashboard.responses, 11);
        assert_eq!(dashboard.questions[0].answer_rate(), Some(0.75));
        assert_eq!(dashboard.questions[1].answer_rate(), None);
    }

    #[test]
    fn other_answers_are_grouped_with_the_most_frequent_texts_listed() {
        let choice = |value: &str, other: bool, count: u64| ChoiceValue {
            question_id: "role".into(),
            value: value.into(),
            other,
            count,
        };
        let mut rows = vec![
            choice(r#""senior""#, false, 4),
            choice(r#""junior""#, false, 1),
            // Typed under "Other": free text even when it spells an option.
            choice(r#""senior""#, true, 1),
        ];
        for (i, text) in ["CTO", "Founder", "Intern", "Nurse", "Pilot", "Zookeeper"]
            .iter()
            .enumerate()
        {
            rows.push(choice(&format!("{text:?}"), true, 1 + (i as u64 % 2)));
        }
        let report = Report {
            choices: rows,
            ..Report::default()
        };
        let dashboard = Dashboard::new(&config(), &report, NOW);
        let role = &dashboard.choices[0];
        assert_eq!(
            role.options,
            [("Junior".to_owned(), 1), ("Senior".to_owned(), 4)]
        );
        assert_eq!(role.other, 10);
        assert_eq!(role.answers, 15);
        let top: Vec<_> = role
            .top_other
            .iter()
            .map(|(t, n)| (t.as_str(), *n))
            .collect();
        assert_eq!(
            top,
            [
                ("Founder", 2),
                ("Nurse", 2),
                ("Zookeeper", 2),
                ("CTO", 1),
                ("Intern", 1)
            ]
        );
    }

    #[test]
    fn a_multichoice_answer_counts_once_per_picked_option_and_once_under_other() {
        let report = Report {
            choices: vec![
                ChoiceValue {
                    question_id: "tools".into(),
                    value: r#"["a","b","Excel"]"#.into(),
                    other: true,
                    count: 2,
                },
                ChoiceValue {
                    question_id: "tools".into(),
                    value: r#"["b"]"#.into(),
                    other: false,
                    count: 1,
                },
            ],
            ..Report::default()
        };
        let dashboard = Dashboard::new(&config(), &report, NOW);
        let tools = &dashboard.choices[1];
        assert!(tools.multiple);
        assert_eq!(tools.answers, 3);
        assert_eq!(
            tools.options,
            [("Tool A".to_owned(), 2), ("Tool B".to_owned(), 3)]
        );
        assert_eq!(tools.other, 2);
        assert_eq!(tools.top_other, [("Excel".to_owned(), 2)]);
    }

    #[test]
    fn days_cover_the_last_thirty_with_empty_days_as_zero() {
        let today = NOW / MS_PER_DAY;
        let report = Report {
            days: vec![
                DayResponses {
                    day: today,
                    status: Status::Answered,
                    count: 5,
                },
                DayResponses {
                    day: today,
                    status: Status::Declined,
                    count: 1,
                },
                DayResponses {
                    day: today - 29,
                    status: Status::Snoozed,
                    count: 2,
                },
            ],
            ..Report::default()
        };
        let dashboard = Dashboard::new(&config(), &report, NOW);
        assert_eq!(dashboard.days.len(), 30);
        let first = &dashboard.days[0];
        let last = &dashboard.days[29];
        assert_eq!((first.answered, first.declined, first.snoozed), (0, 0, 2));
        assert_eq!((last.answered, last.declined, last.snoozed), (5, 1, 0));
        assert_eq!(last.date, "2024-10-04");
        assert!(dashboard.days[1..29]
            .iter()
            .all(|d| d.answered + d.declined + d.snoozed == 0));
        let asked = query(&config(), NOW);
        assert_eq!((asked.first_day, asked.last_day), (today - 29, today));
    }
}
