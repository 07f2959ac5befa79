//! The page's HTML (maud: every interpolated value is escaped). Each chart sits
//! beside a table with the same numbers; the chart is hidden from assistive
//! technology, the table is what a screen reader (and the tests) read.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::charts::{self, colour, Bars, ChartError, Series};
use super::view::{Dashboard, Distribution, DAYS_SHOWN};

/// Where the page's stylesheet is served (by the collector, same origin).
pub const STYLESHEET_PATH: &str = "/admin/admin.css";
/// Where the page's icon is served: without one, browsers ask for
/// `/favicon.ico` and log its 404 as an error.
pub const ICON_PATH: &str = "/admin/icon.svg";

/// The whole page.
pub fn render(dashboard: &Dashboard, generated_at: &str) -> Result<Markup, ChartError> {
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Trickle: what the questions have learned" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
                link rel="icon" href=(ICON_PATH) type="image/svg+xml";
            }
            body {
                header {
                    h1 { "What the questions have learned" }
                    p.summary {
                        strong { (dashboard.known_users) } " known users, "
                        strong { (dashboard.responses) } " responses. Generated "
                        time datetime=(generated_at) { (generated_at) } "."
                    }
                }
                main {
                    (completeness(dashboard)?)
                    (funnel(dashboard)?)
                    (per_question(dashboard)?)
                    (distributions(dashboard)?)
                    (per_day(dashboard)?)
                }
            }
        }
    })
}

/// A chart next to its table.
fn pair(svg: String, table: Markup) -> Markup {
    html! {
        div.pair {
            // The SVG comes from plotters, which escapes its text; the table
            // beside it carries the same numbers for assistive technology.
            div.chart aria-hidden="true" { (PreEscaped(svg)) }
            (table)
        }
    }
}

fn legend(items: &[(&str, &str)]) -> Markup {
    html! {
        ul.legend aria-hidden="true" {
            @for (class, name) in items {
                li { span class={ "swatch " (class) } {} (name) }
            }
        }
    }
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn completeness(d: &Dashboard) -> Result<Markup, ChartError> {
    let svg = charts::horizontal(&Bars {
        categories: d.fields.iter().map(|f| f.field.clone()).collect(),
        series: vec![Series {
            colour: colour::ANSWERED,
            values: d.fields.iter().map(|f| f.share).collect(),
        }],
        stacked: true,
        max: 1.0,
        tick: charts::percent_tick,
        notes: d.fields.iter().map(|f| percent(f.share)).collect(),
    })?;
    let table = html! {
        table #fields {
            caption { "Known users with a value for each field" }
            thead { tr { th scope="col" { "Field" } th scope="col" { "Question" } th.num scope="col" { "Users" } th.num scope="col" { "Share" } } }
            tbody {
                @for f in &d.fields {
                    tr data-key=(f.field) {
                        th scope="row" { code { (f.field) } }
                        td { (f.prompt) }
                        td.num { (f.users) }
                        td.num { (percent(f.share)) }
                    }
                }
            }
        }
    };
    Ok(html! {
        section aria-labelledby="completeness" {
            h2 #completeness { "Profile completeness" }
            p { "How many of the " (d.known_users) " users the collector knows have each field (a decline is not a value)." }
            (pair(svg, table))
        }
    })
}

fn funnel(d: &Dashboard) -> Result<Markup, ChartError> {
    let max = charts::nice_max(d.stages.iter().map(|s| s.reached).max().unwrap_or(0) as f64);
    let svg = charts::horizontal(&Bars {
        categories: d.stages.iter().map(|s| s.stage.clone()).collect(),
        series: vec![
            Series {
                colour: colour::REACHED,
                values: d.stages.iter().map(|s| s.reached as f64).collect(),
            },
            Series {
                colour: colour::ANSWERED,
                values: d.stages.iter().map(|s| s.completed as f64).collect(),
            },
        ],
        stacked: false,
        max,
        tick: charts::count_tick,
        notes: Vec::new(),
    })?;
    let table = html! {
        table #stages {
            caption { "Users who reached and completed each stage" }
            thead { tr { th scope="col" { "Stage" } th.num scope="col" { "From login" } th.num scope="col" { "Questions" } th.num scope="col" { "Reached" } th.num scope="col" { "Completed" } th.num scope="col" { "Completion" } } }
            tbody {
                @for s in &d.stages {
                    tr data-key=(s.stage) {
                        th scope="row" { code { (s.stage) } }
                        td.num { (s.min_logins) }
                        td.num { (s.questions) }
                        td.num { (s.reached) }
                        td.num { (s.completed) }
                        td.num { @if s.reached > 0 { (percent(s.completed as f64 / s.reached as f64)) } @else { "–" } }
                    }
                }
            }
        }
    };
    Ok(html! {
        section aria-labelledby="funnel" {
            h2 #funnel { "Stage funnel" }
            p { "A user reached a stage when they responded to one of its questions (putting it off counts); completed it when they answered or declined all of them." }
            (legend(&[("reached", "Reached"), ("answered", "Completed")]))
            (pair(svg, table))
        }
    })
}

fn per_question(d: &Dashboard) -> Result<Markup, ChartError> {
    let max = charts::nice_max(d.questions.iter().map(|q| q.total()).max().unwrap_or(0) as f64);
    let values = |f: fn(&super::view::QuestionRow) -> u64| -> Vec<f64> {
        d.questions.iter().map(|q| f(q) as f64).collect()
    };
    let svg = charts::horizontal(&Bars {
        categories: d.questions.iter().map(|q| q.id.clone()).collect(),
        series: vec![
            Series {
                colour: colour::ANSWERED,
                values: values(|q| q.answered),
            },
            Series {
                colour: colour::DECLINED,
                values: values(|q| q.declined),
            },
            Series {
                colour: colour::SNOOZED,
                values: values(|q| q.snoozed),
            },
        ],
        stacked: true,
        max,
        tick: charts::count_tick,
        notes: d
            .questions
            .iter()
            .map(|q| q.answer_rate().map(percent).unwrap_or_default())
            .collect(),
    })?;
    let table = html! {
        table #questions {
            caption { "Responses to each question" }
            thead { tr { th scope="col" { "Question" } th scope="col" { "Stage" } th.num scope="col" { "Answered" } th.num scope="col" { "Declined" } th.num scope="col" { "Snoozed" } th.num scope="col" { "Answer rate" } } }
            tbody {
                @for q in &d.questions {
                    tr data-key=(q.id) {
                        th scope="row" { code { (q.id) } br; span.prompt { (q.prompt) } }
                        td { code { (q.stage) } }
                        td.num { (q.answered) }
                        td.num { (q.declined) }
                        td.num { (q.snoozed) }
                        td.num { @match q.answer_rate() { Some(rate) => (percent(rate)), None => "–" } }
                    }
                }
            }
        }
    };
    Ok(html! {
        section aria-labelledby="per-question" {
            h2 #per-question { "Answered, declined, put off" }
            p { "Every response counts: a user who put a question off twice and then answered it adds two snoozes and one answer. The rate is answers over all responses." }
            (legend(&[("answered", "Answered"), ("declined", "Declined"), ("snoozed", "Snoozed (Not now)")]))
            (pair(svg, table))
        }
    })
}

fn distributions(d: &Dashboard) -> Result<Markup, ChartError> {
    let mut parts = Vec::with_capacity(d.choices.len());
    for choice in &d.choices {
        parts.push(distribution(choice)?);
    }
    Ok(html! {
        section aria-labelledby="distributions" {
            h2 #distributions { "What people answered" }
            @if parts.is_empty() { p { "No choice questions are configured." } }
            @for part in parts { (part) }
        }
    })
}

fn distribution(c: &Distribution) -> Result<Markup, ChartError> {
    let share = |n: u64| {
        if c.answers == 0 {
            0.0
        } else {
            n as f64 / c.answers as f64
        }
    };
    let mut rows: Vec<(String, u64)> = c.options.clone();
    if c.shows_other {
        rows.push(("Other".to_owned(), c.other));
    }
    let max = charts::nice_max(rows.iter().map(|r| r.1).max().unwrap_or(0) as f64);
    let svg = charts::horizontal(&Bars {
        categories: rows.iter().map(|r| short(&r.0)).collect(),
        series: vec![Series {
            colour: colour::ANSWERED,
            values: rows.iter().map(|r| r.1 as f64).collect(),
        }],
        stacked: true,
        max,
        tick: charts::count_tick,
        notes: rows.iter().map(|r| percent(share(r.1))).collect(),
    })?;
    let id = format!("choice-{}", c.question_id);
    let table = html! {
        table id=(id) {
            caption { "Answers to " code { (c.question_id) } @if c.multiple { " (several may be picked)" } }
            thead { tr { th scope="col" { "Answer" } th.num scope="col" { "Answers" } th.num scope="col" { "Share" } } }
            tbody {
                @for (label, n) in &rows {
                    tr data-key=(label) {
                        th scope="row" { (label) }
                        td.num { (n) }
                        td.num { (percent(share(*n))) }
                    }
                }
            }
            tfoot { tr { th scope="row" { "All answers" } td.num { (c.answers) } td {} } }
        }
    };
    Ok(html! {
        h3 { (c.prompt) }
        (pair(svg, table))
        @if !c.top_other.is_empty() {
            table.other id={ (id) "-other" } {
                caption { "Most frequent “Other” answers" }
                thead { tr { th scope="col" { "Typed answer" } th.num scope="col" { "Answers" } } }
                tbody {
                    @for (text, n) in &c.top_other {
                        tr { th scope="row" { (text) } td.num { (n) } }
                    }
                }
            }
        }
    })
}

/// A chart label of at most 28 characters (the table has the full text).
fn short(label: &str) -> String {
    const MAX: usize = 28;
    if label.chars().count() <= MAX {
        label.to_owned()
    } else {
        let cut: String = label.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}

fn per_day(d: &Dashboard) -> Result<Markup, ChartError> {
    let labels: Vec<String> = d
        .days
        .iter()
        .enumerate()
        // Every fifth day is labelled, ending on today.
        .map(|(i, day)| {
            if (d.days.len() - 1 - i).is_multiple_of(5) {
                day.date[5..].to_owned()
            } else {
                String::new()
            }
        })
        .collect();
    let series = |f: fn(&super::view::DayRow) -> u64, colour| Series {
        colour,
        values: d.days.iter().map(|day| f(day) as f64).collect(),
    };
    let svg = charts::columns(
        &labels,
        &[
            series(|day| day.answered, colour::ANSWERED),
            series(|day| day.declined, colour::DECLINED),
            series(|day| day.snoozed, colour::SNOOZED),
        ],
    )?;
    let table = html! {
        table #days {
            caption { "Responses per day (UTC)" }
            thead { tr { th scope="col" { "Day" } th.num scope="col" { "Answered" } th.num scope="col" { "Declined" } th.num scope="col" { "Snoozed" } } }
            tbody {
                // Newest first: the table is read from the top.
                @for day in d.days.iter().rev() {
                    tr data-key=(day.date) {
                        th scope="row" { time datetime=(day.date) { (day.date) } }
                        td.num { (day.answered) }
                        td.num { (day.declined) }
                        td.num { (day.snoozed) }
                    }
                }
            }
        }
    };
    Ok(html! {
        section aria-labelledby="per-day" {
            h2 #per-day { "Responses per day, last " (DAYS_SHOWN) " days" }
            p { "By when each was given (its time, but never later than when the collector received it), in UTC." }
            (legend(&[("answered", "Answered"), ("declined", "Declined"), ("snoozed", "Snoozed")]))
            div.pair.wide {
                div.chart aria-hidden="true" { (PreEscaped(svg)) }
                div.scroll tabindex="0" role="region" aria-label="Responses per day, table" { (table) }
            }
        }
    })
}
