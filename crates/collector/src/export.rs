//! The marketing export: one CSV row per user, one column per configured field.

use serde_json::Value as Json;

use crate::store::ExportRow;

/// Writes the export. Columns: `userId`, every configured field in config order,
/// `declined` (the declined fields, `;`-separated) and `updatedAt`. The `csv` crate
/// quotes commas, quotes and line breaks.
pub fn to_csv(fields: &[String], rows: &[ExportRow]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = Vec::with_capacity(fields.len() + 3);
    header.push("userId");
    header.extend(fields.iter().map(String::as_str));
    header.push("declined");
    header.push("updatedAt");
    out.write_record(&header)?;
    for row in rows {
        let mut record = Vec::with_capacity(header.len());
        record.push(defuse(&row.user_id));
        for field in fields {
            record.push(row.doc.get(field).map(cell).unwrap_or_default());
        }
        record.push(
            row.doc
                .declined
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(";"),
        );
        record.push(row.updated_at.clone());
        out.write_record(&record)?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// One value as cell text: lists joined with `; `, whole numbers without `.0`.
fn cell(value: &Json) -> String {
    match value {
        Json::String(s) => defuse(s),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Null => String::new(),
        Json::Array(items) => defuse(
            &items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Json::Object(_) => defuse(&value.to_string()),
    }
}

/// Spreadsheet apps run a cell that starts with `=`, `+`, `-`, `@`, tab or CR as a
/// formula; user-typed text must not become one (OWASP "CSV injection"). A leading
/// `'` makes the app show it as text. Numbers are written by [`cell`] directly and
/// are never touched.
fn defuse(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileDoc;
    use serde_json::json;

    fn row(user: &str, profile: Json) -> ExportRow {
        let mut doc = ProfileDoc::default();
        if let Json::Object(map) = profile {
            doc.profile = map;
        }
        ExportRow {
            user_id: user.into(),
            doc,
            updated_at: "2026-11-30T15:00:00.000Z".into(),
        }
    }

    #[test]
    fn rows_quote_commas_quotes_and_newlines_and_defuse_formulas() {
        let fields = vec![
            "name".to_string(),
            "company.role".to_string(),
            "topics".to_string(),
            "size".to_string(),
        ];
        let rows = vec![
            row(
                "u1",
                json!({ "name": "Ada, \"the\" Countess\nof Lovelace", "company": { "role": "cto" }, "size": 12 }),
            ),
            row(
                "u2",
                json!({ "name": "=HYPERLINK(\"x\")", "topics": ["a", "b"] }),
            ),
        ];
        let text = String::from_utf8(to_csv(&fields, &rows).unwrap()).unwrap();
        let expected = "userId,name,company.role,topics,size,declined,updatedAt\n\
            u1,\"Ada, \"\"the\"\" Countess\nof Lovelace\",cto,,12,,2026-11-30T15:00:00.000Z\n\
            u2,\"'=HYPERLINK(\"\"x\"\")\",,a; b,,,2026-11-30T15:00:00.000Z\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn the_csv_reads_back_to_the_same_cells() {
        let fields = vec!["name".to_string()];
        let rows = vec![row("auth0|1", json!({ "name": "x,\"y\"\r\nz" }))];
        let bytes = to_csv(&fields, &rows).unwrap();
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[0], "auth0|1");
        assert_eq!(&record[1], "x,\"y\"\r\nz");
    }
}
