//! JSON exports (an array of objects, or an object holding one under any key) and JSONL.

use std::path::Path;

use serde_json::{Map, Value};

use super::{Cell, Record, Table};
use crate::parse::encoding;
use crate::{Diagnostic, DiagnosticCode, IngestError, Result};

/// Keys under which exports usually nest their records; tried before any other key.
const RECORD_KEYS: &[&str] = &[
    "data",
    "items",
    "faqs",
    "faq",
    "questions",
    "qa",
    "qas",
    "records",
    "list",
    "rows",
    "results",
    "entries",
    "knowledge",
];

/// How deep to look for the record array inside wrapper objects (`{"data": {"list": [...]}}`).
const MAX_NESTING: usize = 3;

pub(super) fn read_json(path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Result<Table> {
    let decoded = encoding::read_text(path)?;
    diagnostics.extend(decoded.diagnostic);
    let value: Value = serde_json::from_str(&decoded.text).map_err(|e| corrupt(path, &e))?;
    let records = match find_records(&value, MAX_NESTING) {
        Some(records) => records,
        None => {
            return Err(match &value {
                Value::Object(map) => IngestError::NoFaqColumns {
                    path: path.to_path_buf(),
                    headers: map.keys().cloned().collect(),
                },
                _ => IngestError::Corrupt {
                    path: path.to_path_buf(),
                    format: "JSON FAQ export",
                    reason: "expected an array of objects".to_owned(),
                },
            })
        }
    };
    let mut objects = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        match record {
            Value::Object(map) => objects.push((number, map)),
            other => diagnostics.push(not_an_object("record", number, other)),
        }
    }
    Ok(to_table(objects))
}

/// JSONL: one object per line; a bad line is skipped with a diagnostic, and the record
/// number is the line number.
pub(super) fn read_jsonl(path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Result<Table> {
    let decoded = encoding::read_text(path)?;
    diagnostics.extend(decoded.diagnostic);
    let mut values = Vec::new();
    let mut first_error = None;
    for (i, line) in decoded.text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(map)) => values.push((number, map)),
            Ok(other) => diagnostics.push(not_an_object("line", number, &other)),
            Err(e) => {
                diagnostics.push(Diagnostic::new(
                    DiagnosticCode::MalformedRecord,
                    format!("line {number}: invalid JSON ({e}); skipped"),
                    None,
                ));
                first_error.get_or_insert(e);
            }
        }
    }
    if values.is_empty() {
        if let Some(e) = first_error {
            return Err(corrupt(path, &e));
        }
    }
    Ok(to_table(values.iter().map(|(n, m)| (*n, m)).collect()))
}

fn corrupt(path: &Path, e: &serde_json::Error) -> IngestError {
    IngestError::Corrupt {
        path: path.to_path_buf(),
        format: "JSON",
        reason: e.to_string(),
    }
}

fn not_an_object(what: &str, number: u32, value: &Value) -> Diagnostic {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    Diagnostic::new(
        DiagnosticCode::MalformedRecord,
        format!("{what} {number}: expected an object, found {kind}; skipped"),
        None,
    )
}

/// The array of records: the value itself, or one found under a key of a wrapper object.
fn find_records(value: &Value, depth: usize) -> Option<&Vec<Value>> {
    match value {
        Value::Array(items) if items.is_empty() || items.iter().any(Value::is_object) => Some(items),
        Value::Object(map) if depth > 0 => {
            let preferred = RECORD_KEYS.iter().filter_map(|key| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v)
            });
            preferred
                .chain(map.values())
                .find_map(|v| find_records(v, depth - 1))
        }
        _ => None,
    }
}

/// Headers are all keys in order of first appearance; cells follow that order.
fn to_table(objects: Vec<(u32, &Map<String, Value>)>) -> Table {
    let mut headers: Vec<String> = Vec::new();
    for (_, map) in &objects {
        for key in map.keys() {
            if !headers.contains(key) {
                headers.push(key.clone());
            }
        }
    }
    let records = objects
        .into_iter()
        .map(|(number, map)| Record {
            number,
            cells: headers
                .iter()
                .map(|h| map.get(h).map(to_cell).unwrap_or(Cell::Text(String::new())))
                .collect(),
        })
        .collect();
    Table { headers, records }
}

fn to_cell(value: &Value) -> Cell {
    match value {
        Value::Array(items) => Cell::List(items.iter().map(scalar_text).collect()),
        other => Cell::Text(scalar_text(other)),
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_found_at_top_level_and_nested() {
        let top = json!([{"q": 1}]);
        assert_eq!(find_records(&top, MAX_NESTING).map(Vec::len), Some(1));
        let nested = json!({"code": 0, "msg": "ok", "Data": {"total": 2, "list": [{"q": 1}, {"q": 2}]}});
        assert_eq!(find_records(&nested, MAX_NESTING).map(Vec::len), Some(2));
        assert!(find_records(&json!({"a": [1, 2]}), MAX_NESTING).is_none());
    }

    #[test]
    fn headers_are_the_union_of_keys() {
        let a = json!({"question": "q1", "answer": "a1"});
        let b = json!({"question": "q2", "answer": "a2", "tags": ["x", "y"]});
        let table = to_table(vec![(1, a.as_object().unwrap()), (2, b.as_object().unwrap())]);
        // Key order depends on serde_json's `preserve_order` feature, which another crate in
        // the build may switch on: compare as a set and find columns by name.
        let mut headers = table.headers.clone();
        headers.sort();
        assert_eq!(headers, ["answer", "question", "tags"]);
        let tags = table.headers.iter().position(|h| h == "tags").unwrap();
        assert_eq!(table.records[0].cells[tags], Cell::Text(String::new()));
        assert_eq!(
            table.records[1].cells[tags],
            Cell::List(vec!["x".into(), "y".into()])
        );
    }
}
