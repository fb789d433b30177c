//! FAQ knowledge-base exports (CSV, TSV, XLSX/XLS/ODS, JSON, JSONL) → one [`QaPair`] per record.
//!
//! Every source is first read into a [`Table`] (headers + records of [`Cell`]s); the columns
//! holding the question, the answer and the similar questions are then found by
//! [`columns::detect`] (zh/en header names, or the user's explicit [`FaqMapping`]), and every
//! other column becomes metadata.

mod columns;
mod json;
mod table;

use std::collections::BTreeMap;
use std::path::Path;

use crate::parse::{FaqMapping, ParseOptions};
use crate::{Block, Diagnostic, DiagnosticCode, Document, Format, IngestError, QaPair, Result};

pub(crate) use columns::Columns;

/// One cell of a record: spreadsheets give text, JSON may also give a list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Text(String),
    List(Vec<String>),
}

impl Cell {
    fn is_blank(&self) -> bool {
        match self {
            Cell::Text(s) => s.trim().is_empty(),
            Cell::List(items) => items.iter().all(|s| s.trim().is_empty()),
        }
    }

    /// The cell as one string; list items are joined with `sep`.
    fn joined(&self, sep: &str) -> String {
        match self {
            Cell::Text(s) => s.trim().to_owned(),
            Cell::List(items) => items
                .iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(sep),
        }
    }
}

/// A data record and its 1-based number in the source (data row or JSON record/line).
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub number: u32,
    pub cells: Vec<Cell>,
}

/// Headers and records, whatever the source format.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub headers: Vec<String>,
    pub records: Vec<Record>,
}

pub(super) fn parse(path: &Path, format: Format, opts: &ParseOptions) -> Result<Document> {
    let mapping = opts.faq_mapping.as_ref();
    let mut diagnostics = Vec::new();
    let (table, columns) = match format {
        Format::Csv => table::read_delimited(path, b',', mapping, &mut diagnostics)?,
        Format::Tsv => table::read_delimited(path, b'\t', mapping, &mut diagnostics)?,
        Format::Xlsx => table::read_workbook(path, mapping, &mut diagnostics)?,
        Format::Json => with_columns(path, json::read_json(path, &mut diagnostics)?, mapping)?,
        Format::Jsonl => with_columns(path, json::read_jsonl(path, &mut diagnostics)?, mapping)?,
        other => {
            return Err(IngestError::Unsupported {
                path: path.to_path_buf(),
                extension: other.as_str().to_owned(),
            })
        }
    };

    let blocks: Vec<Block> = table
        .records
        .iter()
        .filter_map(|record| to_pair(&table.headers, &columns, record, &mut diagnostics))
        .map(Block::Qa)
        .collect();
    if blocks.is_empty() {
        diagnostics.push(Diagnostic::new(
            DiagnosticCode::Empty,
            "the export has a header row but no complete question/answer record",
            None,
        ));
    }
    Ok(Document {
        title: file_stem(path),
        format,
        page_count: None,
        blocks,
        diagnostics,
    })
}

fn with_columns(path: &Path, table: Table, mapping: Option<&FaqMapping>) -> Result<(Table, Columns)> {
    match columns::detect(&table.headers, mapping) {
        Some(columns) => Ok((table, columns)),
        None => Err(no_columns(path, table.headers)),
    }
}

pub(crate) fn no_columns(path: &Path, headers: Vec<String>) -> IngestError {
    IngestError::NoFaqColumns {
        path: path.to_path_buf(),
        headers,
    }
}

pub(crate) fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Builds the pair of one record; an incomplete record becomes a diagnostic instead.
fn to_pair(
    headers: &[String],
    columns: &Columns,
    record: &Record,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<QaPair> {
    // Spreadsheets end with rows that only look used (formatting, stray spaces): skip silently.
    if record.cells.iter().all(Cell::is_blank) {
        return None;
    }
    let cell = |i: usize| record.cells.get(i).map(|c| c.joined("\n")).unwrap_or_default();
    let question = cell(columns.question);
    let answer = cell(columns.answer);
    let missing = match (question.is_empty(), answer.is_empty()) {
        (true, true) => Some("question and answer are"),
        (true, false) => Some("question is"),
        (false, true) => Some("answer is"),
        (false, false) => None,
    };
    if let Some(what) = missing {
        diagnostics.push(Diagnostic::new(
            DiagnosticCode::MalformedRecord,
            format!("row {}: the {what} empty; skipped", record.number),
            None,
        ));
        return None;
    }

    let mut similar_questions: Vec<String> = Vec::new();
    if let Some(i) = columns.similar {
        for s in record.cells.get(i).map(split_similar).unwrap_or_default() {
            if s != question && !similar_questions.contains(&s) {
                similar_questions.push(s);
            }
        }
    }

    let mut metadata = BTreeMap::new();
    for (i, cell) in record.cells.iter().enumerate() {
        if columns.contains(i) || cell.is_blank() {
            continue;
        }
        let key = headers
            .get(i)
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("column {}", i + 1));
        metadata.insert(key, cell.joined(", "));
    }

    Some(QaPair {
        question,
        answer,
        similar_questions,
        metadata,
        row: record.number,
    })
}

/// Similar questions come as a list (JSON) or one cell separated by newlines, `|`/`｜` or
/// semicolons (ASCII or full-width).
fn split_similar(cell: &Cell) -> Vec<String> {
    let items: Vec<&str> = match cell {
        Cell::List(items) => items.iter().map(String::as_str).collect(),
        Cell::Text(s) => s.split(['\n', '\r', '|', '｜', '；', ';']).collect(),
    };
    items
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_questions_split_on_all_separators() {
        let cell = Cell::Text("怎么请假｜x\n如何请假|请假流程；请假手续; leave ".into());
        assert_eq!(
            split_similar(&cell),
            ["怎么请假", "x", "如何请假", "请假流程", "请假手续", "leave"]
        );
    }

    #[test]
    fn incomplete_record_is_a_diagnostic() {
        let headers = vec!["问题".to_owned(), "答案".to_owned()];
        let columns = columns::detect(&headers, None).unwrap();
        let record = Record {
            number: 7,
            cells: vec![Cell::Text("问".into()), Cell::Text("  ".into())],
        };
        let mut diags = Vec::new();
        assert!(to_pair(&headers, &columns, &record, &mut diags).is_none());
        assert_eq!(diags[0].code, DiagnosticCode::MalformedRecord);
        assert!(diags[0].message.contains("row 7"));
    }
}
