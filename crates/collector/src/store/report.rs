//! The numbers behind the marketer's view (`GET /admin`, contract section 6): one
//! aggregate query per chart, run in the database, returning a few rows each.
//!
//! The SQL here is written to run unchanged on SQLite and PostgreSQL:
//! - no engine-specific functions: days are integer arithmetic on `at_ms`
//!   (Unix milliseconds, see migration 5), counts are `CAST(... AS BIGINT)` (so
//!   both engines hand back a 64-bit integer), `other` is read through
//!   `CAST(other AS INTEGER)` (an integer here, possibly a boolean there) and
//!   `value` through `CAST(value AS TEXT)` (JSON text here, possibly `jsonb` there);
//! - placeholders are `$1`, `$2`, ..., each first written in numeric order. That is
//!   PostgreSQL's own style; SQLite reads `$1` as a named parameter and numbers
//!   named parameters by first appearance, so `$n` is also the n-th positional
//!   parameter there (a test below holds SQLite to it);
//! - a derived table has an alias (PostgreSQL requires one); the days of the
//!   per-day counts come from `WITH RECURSIVE`, which both engines have.
//!
//! Checked by hand on PostgreSQL 15 against a copy of a SQLite database's rows
//! (with `value` as `jsonb` and as `text`, `other` as `boolean` and as
//! `integer`): every query returned the same rows.
//!
//! The indexes these queries use are migration 5 of the SQLite engine
//! ([`INDEXES`]); a PostgreSQL schema needs the same ones.

use trickle_core::answer::Status;

/// Milliseconds in a (UTC) day: the day buckets of [`DAYS_SQL`].
pub const MS_PER_DAY: i64 = 86_400_000;

/// The indexes of the report's queries (SQLite migration 5, after `at_ms` is added).
/// Each makes its query read an index only, in the order it groups by:
/// - `answers_report_field`: known fields per user ([`FIELDS_SQL`]);
/// - `answers_report_question`: responses per question and status
///   ([`RESPONSES_SQL`]) and the values of choice questions ([`choices_sql`]);
/// - `answers_report_stage`: the stage funnel ([`stages_sql`]);
/// - `answers_report_day`: answers per day ([`DAYS_SQL`]): one range count per
///   status and day.
pub const INDEXES: &str = "
    CREATE INDEX answers_report_field ON answers (status, field, user_id);
    CREATE INDEX answers_report_question ON answers (question_id, status, value, other);
    CREATE INDEX answers_report_stage ON answers (stage, user_id, question_id, status);
    CREATE INDEX answers_report_day ON answers (status, at_ms);";

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
/// query reads `answers_report_stage` in (stage, user) order and groups as it
/// goes (a `WHERE question_id IN` made SQLite pick the question index and sort,
/// 220 ms against 60 ms at 100,000 answers).
pub fn stages_sql(n: usize) -> String {
    let questions = placeholders(1, n);
    format!(
        "SELECT stage, settled, responded, CAST(COUNT(*) AS BIGINT) FROM (
            SELECT stage, user_id,
                   CAST(COUNT(DISTINCT CASE WHEN status <> 'snoozed' AND question_id IN ({questions})
                                            THEN question_id END) AS BIGINT) AS settled,
                   MAX(CASE WHEN question_id IN ({questions}) THEN 1 ELSE 0 END) AS responded
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
        "SELECT question_id, CAST(value AS TEXT), CAST(other AS INTEGER),
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

/// A status as stored (`answered`, `declined`, `snoozed`).
pub(super) fn parse_status(text: &str) -> Option<Status> {
    match text {
        "answered" => Some(Status::Answered),
        "declined" => Some(Status::Declined),
        "snoozed" => Some(Status::Snoozed),
        _ => None,
    }
}

/// A count as both engines return it (`BIGINT`); never negative.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Runs the report's queries on a SQLite connection (a read snapshot: the caller
/// wraps them in one transaction so every chart counts the same answers).
pub(super) fn read_sqlite(
    conn: &rusqlite::Connection,
    query: &ReportQuery,
) -> rusqlite::Result<Report> {
    use rusqlite::params_from_iter;

    let mut report = Report::default();
    let mut stmt = conn.prepare_cached(FIELDS_SQL)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let users = count(row.get(1)?);
        match row.get::<_, Option<String>>(0)? {
            Some(field) => report.fields.push(FieldUsers { field, users }),
            None => report.known_users = users,
        }
    }

    let mut stmt = conn.prepare_cached(RESPONSES_SQL)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        // The table's CHECK allows only the three statuses.
        if let Some(status) = parse_status(&row.get::<_, String>(1)?) {
            report.responses.push(Responses {
                question_id: row.get(0)?,
                status,
                count: count(row.get(2)?),
            });
        }
    }

    let mut stmt = conn.prepare_cached(DAYS_SQL)?;
    let mut rows = stmt.query([query.first_day, query.last_day])?;
    while let Some(row) = rows.next()? {
        if let Some(status) = parse_status(&row.get::<_, String>(1)?) {
            report.days.push(DayResponses {
                day: row.get(0)?,
                status,
                count: count(row.get(2)?),
            });
        }
    }

    if !query.questions.is_empty() {
        let mut stmt = conn.prepare(&stages_sql(query.questions.len()))?;
        let mut rows = stmt.query(params_from_iter(&query.questions))?;
        while let Some(row) = rows.next()? {
            report.stages.push(StageSettled {
                stage: row.get(0)?,
                settled: count(row.get(1)?),
                responded: row.get::<_, i64>(2)? != 0,
                users: count(row.get(3)?),
            });
        }
    }

    if !query.choice_questions.is_empty() {
        let mut stmt = conn.prepare(&choices_sql(query.choice_questions.len()))?;
        let mut rows = stmt.query(params_from_iter(&query.choice_questions))?;
        while let Some(row) = rows.next()? {
            report.choices.push(ChoiceValue {
                question_id: row.get(0)?,
                value: row.get(1)?,
                other: row.get::<_, i64>(2)? != 0,
                count: count(row.get(3)?),
            });
        }
    }
    Ok(report)
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
