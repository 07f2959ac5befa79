//! The numbers behind the marketer's view (`GET /admin`, contract section 6): one
//! aggregate query per chart, run in the database, returning a few rows each.
//!
//! The SQL here is written to run unchanged on SQLite and PostgreSQL:
//! - no engine-specific functions: days are integer arithmetic on `at_ms`
//!   (Unix milliseconds, see the engines' migrations), every number is
//!   `CAST(... AS BIGINT)` (so both engines hand back a 64-bit integer), `other` is
//!   read through `CASE WHEN other THEN 1 ELSE 0 END` (an integer on SQLite, a
//!   boolean on PostgreSQL) and `value` through `CAST(value AS TEXT)` (JSON text
//!   on both today; the cast keeps the query right should it become `jsonb`);
//! - placeholders are `$1`, `$2`, ..., each first written in numeric order. That is
//!   PostgreSQL's own style; SQLite reads `$1` as a named parameter and numbers
//!   named parameters by first appearance, so `$n` is also the n-th positional
//!   parameter there (a test below holds SQLite to it);
//! - a derived table has an alias (PostgreSQL requires one); the days of the
//!   per-day counts come from `WITH RECURSIVE`, which both engines have.
//!
//! Both engines run them (`Backend::report`); tests/admin.rs checks the page's
//! numbers on each.
//!
//! The indexes these queries use are SQLite's migration 6 ([`INDEXES`], two) and
//! PostgreSQL's migration 3 (four, one per query).

use trickle_core::answer::Status;

use super::{parse_status, StoreError};

/// Milliseconds in a (UTC) day: the day buckets of [`DAYS_SQL`].
pub const MS_PER_DAY: i64 = 86_400_000;

/// The report's indexes on SQLite (migration 6, after `at_ms` is added): two, so
/// a stored answer costs two more index entries, one of them appended at the end.
///
/// - `answers_report`: every column the queries read but `at_ms`, led by the
///   funnel's grouping (stage, user). [`stages_sql`] reads it in order and groups
///   as it goes; [`FIELDS_SQL`], [`RESPONSES_SQL`] and [`choices_sql`] read it
///   instead of the table (a fraction of the table's bytes: no context, no
///   timestamps as text) and sort what they group.
/// - `answers_report_day`: [`DAYS_SQL`]'s range counts. Led by `at_ms`, which
///   grows with time, so an insert lands on the last page; led by `status` it
///   also tempted SQLite's planner into it for `status = 'answered'`, with a
///   table lookup per row.
///
/// Measured at 100,000 answers (`examples/admin-bench`, crates/collector/README.md):
/// these two keep the page under 200 ms. Four narrower indexes, one per query,
/// made it faster but cut ingestion to 0.34x-0.60x of the rate without them; with
/// these two, one index with `user_id` in its key is written at a random place
/// per answer instead of three.
///
/// PostgreSQL keeps four (its migration 3): there a post's cost is mostly round
/// trips and the WAL flush, the four cost one-answer posts nothing measurable
/// (ten-answer posts 0.70x-0.88x), and these two left the page at 168-188 ms
/// median with a p90 over 200 ms.
pub const INDEXES: &str = "
    CREATE INDEX answers_report
        ON answers (stage, user_id, question_id, status, field, value, other);
    CREATE INDEX answers_report_day ON answers (at_ms, status);";

/// Per field, how many users have an answered value for it; and one row with a
/// `NULL` field holding how many users the collector knows (has anything for).
/// A decline never removes a value (the latest answer wins, and a decline is not
/// an answer), so "has an answered row" is "has the field".
pub const FIELDS_SQL: &str = "
    SELECT field, CAST(COUNT(DISTINCT user_id) AS BIGINT)
    FROM answers WHERE status = 'answered'
    GROUP BY status, field
    UNION ALL
    SELECT NULL, CAST(COUNT(*) AS BIGINT) FROM profiles";

/// Per question and status, how many responses (rows) were stored: a user who
/// put a question off twice and then answered it counts two snoozes and one answer.
pub const RESPONSES_SQL: &str = "
    SELECT question_id, status, CAST(COUNT(*) AS BIGINT)
    FROM answers
    GROUP BY question_id, status";

/// Per day (UTC, days since the Unix epoch) from `$1` to `$2` and status, the
/// responses given that day, by when each counts as given (`at_ms`); days
/// without any are rows with 0.
///
/// Written as one range count per day and status rather than a `GROUP BY` of
/// `at_ms / 86400000`: each count is a range of `answers_report_day`, where the
/// grouping would sort every row of the month (measured at 100,000 answers on
/// SQLite: 4 ms against 48 ms).
pub const DAYS_SQL: &str = "
    WITH RECURSIVE days (day) AS (
        SELECT CAST($1 AS BIGINT)
        UNION ALL
        SELECT day + 1 FROM days WHERE day < CAST($2 AS BIGINT)
    )
    SELECT days.day, statuses.status,
           (SELECT CAST(COUNT(*) AS BIGINT) FROM answers
            WHERE answers.status = statuses.status
              AND answers.at_ms >= days.day * 86400000
              AND answers.at_ms < (days.day + 1) * 86400000)
    FROM days
    CROSS JOIN (SELECT 'answered' AS status
                UNION ALL SELECT 'declined'
                UNION ALL SELECT 'snoozed') AS statuses";

/// Per stage, how many users settled (answered or declined) how many of the
/// configured questions `$1..$n`, and whether they responded to any of them: a
/// histogram of (stage, settled, responded, users). A user who responded to a
/// question of a stage (a snooze included) reached it; one who settled every
/// question of the stage completed it. `n` must be at least 1.
///
/// The question filter is inside the aggregates, not a `WHERE`: that way the
/// query reads its stage-led index (SQLite's `answers_report`, PostgreSQL's
/// `answers_report_stage`) in (stage, user) order and groups as it
/// goes (a `WHERE question_id IN` made SQLite pick the question index and sort,
/// 220 ms against 60 ms at 100,000 answers).
pub fn stages_sql(n: usize) -> String {
    let questions = placeholders(1, n);
    format!(
        "SELECT stage, settled, responded, CAST(COUNT(*) AS BIGINT) FROM (
            SELECT stage, user_id,
                   CAST(COUNT(DISTINCT CASE WHEN status <> 'snoozed' AND question_id IN ({questions})
                                            THEN question_id END) AS BIGINT) AS settled,
                   CAST(MAX(CASE WHEN question_id IN ({questions}) THEN 1 ELSE 0 END) AS BIGINT)
                       AS responded
            FROM answers
            GROUP BY stage, user_id
        ) AS per_user
        GROUP BY stage, settled, responded"
    )
}

/// Per choice question `$1..$n`, how many answers gave each stored value (JSON
/// text: a string for choice, an array for multichoice) with or without
/// "Other". `n` must be at least 1.
pub fn choices_sql(n: usize) -> String {
    format!(
        "SELECT question_id, CAST(value AS TEXT), CAST(CASE WHEN other THEN 1 ELSE 0 END AS BIGINT),
                CAST(COUNT(*) AS BIGINT)
         FROM answers WHERE status = 'answered' AND question_id IN ({})
         GROUP BY question_id, value, other",
        placeholders(1, n)
    )
}

/// `$from, $from+1, ...`, `n` of them.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the report is asked about: the config's questions (answers to questions
/// no longer configured are left out of the funnel and the distributions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    /// Every configured question id.
    pub questions: Vec<String>,
    /// The ids of choice and multichoice questions.
    pub choice_questions: Vec<String>,
    /// The first day counted per day (days since 1970-01-01, UTC).
    pub first_day: i64,
    /// The last day counted per day.
    pub last_day: i64,
}

/// The aggregates behind the marketer's view, as the queries return them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Users with anything stored.
    pub known_users: u64,
    /// Per field, users with an answered value ([`FIELDS_SQL`]).
    pub fields: Vec<FieldUsers>,
    /// The funnel's histogram ([`stages_sql`]).
    pub stages: Vec<StageSettled>,
    /// Responses per question and status ([`RESPONSES_SQL`]).
    pub responses: Vec<Responses>,
    /// Answers per stored value of each choice question ([`choices_sql`]).
    pub choices: Vec<ChoiceValue>,
    /// Responses per day and status ([`DAYS_SQL`]).
    pub days: Vec<DayResponses>,
}

/// How many users have an answered value for a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldUsers {
    /// The field (dot path).
    pub field: String,
    /// Users with a value.
    pub users: u64,
}

/// How many users settled `settled` questions of `stage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageSettled {
    /// The stage id.
    pub stage: String,
    /// Configured questions of the stage answered or declined by each of these users.
    pub settled: u64,
    /// Whether these users responded to a configured question of the stage.
    pub responded: bool,
    /// How many users.
    pub users: u64,
}

/// Responses of one status to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responses {
    /// The question id.
    pub question_id: String,
    /// Answered, declined or snoozed.
    pub status: Status,
    /// How many.
    pub count: u64,
}

/// Answers to a choice question that stored one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceValue {
    /// The question id.
    pub question_id: String,
    /// The stored value as JSON text (`"senior"`, `["a","b"]`).
    pub value: String,
    /// Whether the value holds text typed under "Other".
    pub other: bool,
    /// How many answers.
    pub count: u64,
}

/// Responses of one status on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayResponses {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// Answered, declined or snoozed.
    pub status: Status,
    /// How many.
    pub count: u64,
}

/// A count as both engines return it (`BIGINT`); never negative.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Builds a [`Report`] from the rows of the queries above, one call per row, in
/// the column order of each query: the engines read rows their own way, the
/// meaning of each column is decided here once.
#[derive(Debug, Default)]
pub(super) struct ReportRows(Report);

impl ReportRows {
    /// A row of [`FIELDS_SQL`].
    pub(super) fn field(&mut self, field: Option<String>, users: i64) {
        let users = count(users);
        match field {
            Some(field) => self.0.fields.push(FieldUsers { field, users }),
            None => self.0.known_users = users,
        }
    }

    /// A row of [`RESPONSES_SQL`].
    pub(super) fn responses(
        &mut self,
        question_id: String,
        status: &str,
        n: i64,
    ) -> Result<(), StoreError> {
        self.0.responses.push(Responses {
            question_id,
            status: parse_status(status)?,
            count: count(n),
        });
        Ok(())
    }

    /// A row of [`DAYS_SQL`].
    pub(super) fn day(&mut self, day: i64, status: &str, n: i64) -> Result<(), StoreError> {
        self.0.days.push(DayResponses {
            day,
            status: parse_status(status)?,
            count: count(n),
        });
        Ok(())
    }

    /// A row of [`stages_sql`].
    pub(super) fn stage(&mut self, stage: String, settled: i64, responded: i64, users: i64) {
        self.0.stages.push(StageSettled {
            stage,
            settled: count(settled),
            responded: responded != 0,
            users: count(users),
        });
    }

    /// A row of [`choices_sql`].
    pub(super) fn choice(&mut self, question_id: String, value: String, other: i64, n: i64) {
        self.0.choices.push(ChoiceValue {
            question_id,
            value,
            other: other != 0,
            count: count(n),
        });
    }

    /// The report.
    pub(super) fn finish(self) -> Report {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_up_from_the_first() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(4, 1), "$4");
    }

    #[test]
    fn sqlite_binds_dollar_n_placeholders_by_position() {
        // The report's SQL is PostgreSQL's `$n` style; SQLite must bind them in
        // order, or the IN lists would get the wrong question ids.
        // A placeholder used again (the stage query's two IN lists) binds the same.
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let list = placeholders(1, 3).replace(", ", " || '-' || ");
        let sql = format!("SELECT {list} || '/' || {list}");
        let joined: String = conn
            .query_row(&sql, rusqlite::params!["a", "b", "c"], |row| row.get(0))
            .unwrap();
        assert_eq!(joined, "a-b-c/a-b-c");
    }
}
