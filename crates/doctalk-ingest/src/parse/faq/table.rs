//! Row-oriented sources: CSV/TSV (any encoding) and spreadsheets (XLSX/XLS/ODS via calamine).
//!
//! The header row is the first of the leading rows whose names [`columns::detect`]
//! recognises, so a title line or an empty line above the header does no harm.

use std::path::Path;

use calamine::{Data, Reader};

use super::columns::{self, Columns};
use super::{no_columns, Cell, Record, Table};
use crate::parse::{encoding, FaqMapping};
use crate::{Diagnostic, DiagnosticCode, IngestError, Result};

/// How many leading rows may precede the header row.
const HEADER_SEARCH_ROWS: usize = 10;

/// Reads CSV (`delimiter` b',') or TSV (b'\t'). A `.csv` whose first line has tabs or
/// semicolons but no commas is read with that delimiter instead (European Excel uses `;`).
pub(super) fn read_delimited(
    path: &Path,
    delimiter: u8,
    mapping: Option<&FaqMapping>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<(Table, Columns)> {
    let decoded = encoding::read_text(path)?;
    diagnostics.extend(decoded.diagnostic);
    let text = decoded.text;
    let delimiter = if delimiter == b',' {
        sniff_delimiter(&text)
    } else {
        delimiter
    };

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        match record {
            Ok(record) => rows.push(record.iter().map(|s| Cell::Text(s.to_owned())).collect()),
            Err(e) => {
                // Keep row numbering aligned with the file even when a record is unreadable.
                rows.push(Vec::new());
                diagnostics.push(Diagnostic::new(
                    DiagnosticCode::MalformedRecord,
                    format!("record {}: {e}; skipped", i + 1),
                    None,
                ));
            }
        }
    }
    let found = split_header(rows, mapping).ok_or_else(|| IngestError::Empty {
        path: path.to_path_buf(),
    })?;
    found.map_err(|headers| no_columns(path, headers))
}

fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if first.contains(',') {
        b','
    } else if first.contains('\t') {
        b'\t'
    } else if first.contains(';') {
        b';'
    } else {
        b','
    }
}

/// Reads the first sheet that has a recognisable header row.
pub(super) fn read_workbook(
    path: &Path,
    mapping: Option<&FaqMapping>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<(Table, Columns)> {
    let corrupt = |reason: String| IngestError::Corrupt {
        path: path.to_path_buf(),
        format: "spreadsheet",
        reason,
    };
    check_unpacked_size(path, MAX_UNPACKED_BYTES).map_err(corrupt)?;
    let mut workbook = calamine::open_workbook_auto(path).map_err(|e| corrupt(e.to_string()))?;
    let names = workbook.sheet_names();
    let mut first_headers: Option<Vec<String>> = None;
    for (index, name) in names.iter().enumerate() {
        let range = match workbook.worksheet_range_at(index) {
            Some(Ok(range)) => range,
            Some(Err(e)) => {
                diagnostics.push(Diagnostic::new(
                    DiagnosticCode::MalformedRecord,
                    format!("sheet {name:?} could not be read: {e}"),
                    None,
                ));
                continue;
            }
            None => continue,
        };
        let rows: Vec<Vec<Cell>> = range
            .rows()
            .map(|row| row.iter().map(|c| Cell::Text(cell_text(c))).collect())
            .collect();
        match split_header(rows, mapping) {
            Some(Ok(found)) => return Ok(found),
            Some(Err(headers)) => {
                first_headers.get_or_insert(headers);
            }
            None => {}
        }
    }
    if names.is_empty() {
        return Err(corrupt("the workbook has no sheets".to_owned()));
    }
    Err(no_columns(path, first_headers.unwrap_or_default()))
}

/// Spreadsheet cell → text. Whole numbers lose their ".0"; dates become ISO dates.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
            }
        }
        Data::DateTime(dt) => dt.as_f64().to_string(),
    }
}

/// Finds the header row among the first rows and returns the table after it.
/// `None`: no non-empty row at all; `Err(headers)`: rows exist but none is a FAQ header
/// (the first non-empty row is returned for the error message).
fn split_header(
    rows: Vec<Vec<Cell>>,
    mapping: Option<&FaqMapping>,
) -> Option<Result<(Table, Columns), Vec<String>>> {
    let texts = |row: &[Cell]| -> Vec<String> { row.iter().map(|c| c.joined(" ")).collect() };
    let first_non_empty = rows
        .iter()
        .find(|r| r.iter().any(|c| !c.is_blank()))
        .map(|r| texts(r))?;
    for (h, row) in rows.iter().enumerate().take(HEADER_SEARCH_ROWS) {
        let headers = texts(row);
        if let Some(columns) = columns::detect(&headers, mapping) {
            let records = rows
                .into_iter()
                .enumerate()
                .skip(h + 1)
                .map(|(i, cells)| Record {
                    number: u32::try_from(i - h).unwrap_or(u32::MAX),
                    cells,
                })
                .collect();
            return Some(Ok((Table { headers, records }, columns)));
        }
    }
    Some(Err(first_non_empty))
}

/// The most an XLSX/ODS file may unpack to: far beyond any real FAQ export, far below what would
/// exhaust a laptop's memory (the spreadsheet library holds a whole sheet at once).
const MAX_UNPACKED_BYTES: u64 = 512 << 20;

/// Refuses a zip-based spreadsheet whose entries declare more than `limit` bytes (a zip bomb)
/// before the spreadsheet library inflates it. Files that are not zips (old `.xls`) pass.
fn check_unpacked_size(path: &Path, limit: u64) -> std::result::Result<(), String> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(()); // the library reports the read error in its own words
    };
    let Ok(mut archive) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return Ok(());
    };
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        if let Ok(entry) = archive.by_index_raw(i) {
            total = total.saturating_add(entry.size());
        }
    }
    if total > limit {
        return Err(format!(
            "it would unpack to {} MB, more than the {} MB a spreadsheet may (a zip bomb?)",
            total >> 20,
            limit >> 20
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spreadsheet_that_would_unpack_past_the_limit_is_refused_before_inflating() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.xlsx");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        zip.write_all(&vec![b' '; 3 << 20]).unwrap();
        zip.finish().unwrap();
        assert!(
            std::fs::metadata(&path).unwrap().len() < 64 << 10,
            "it compresses well"
        );
        let refused = check_unpacked_size(&path, 2 << 20).unwrap_err();
        assert!(refused.contains("would unpack to 3 MB"), "{refused}");
        assert!(check_unpacked_size(&path, 8 << 20).is_ok());
        // Through the parser, at the real limit, the small bomb is only a broken workbook.
        let mut diagnostics = Vec::new();
        assert!(matches!(
            read_workbook(&path, None, &mut diagnostics),
            Err(IngestError::Corrupt { .. } | IngestError::NoFaqColumns { .. })
        ));
    }

    fn row(cells: &[&str]) -> Vec<Cell> {
        cells.iter().map(|s| Cell::Text(s.to_string())).collect()
    }

    #[test]
    fn header_below_a_title_line_is_found_and_rows_numbered_from_it() {
        let rows = vec![
            row(&["客服知识库导出 2024-05"]),
            row(&[]),
            row(&["问题", "答案"]),
            row(&["Q1", "A1"]),
            row(&["Q2", "A2"]),
        ];
        let (table, columns) = split_header(rows, None).unwrap().unwrap();
        assert_eq!(table.headers, ["问题", "答案"]);
        assert_eq!((columns.question, columns.answer), (0, 1));
        let numbers: Vec<u32> = table.records.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [1, 2]);
    }

    #[test]
    fn unknown_headers_are_reported() {
        let rows = vec![row(&["name", "price"]), row(&["pen", "3"])];
        assert_eq!(split_header(rows, None).unwrap().unwrap_err(), ["name", "price"]);
    }

    #[test]
    fn delimiter_sniffing() {
        assert_eq!(sniff_delimiter("\nquestion;answer\nq;a"), b';');
        assert_eq!(sniff_delimiter("question\tanswer"), b'\t');
        assert_eq!(sniff_delimiter("question,answer;x"), b',');
    }

    #[test]
    fn spreadsheet_cells_read_like_a_person_sees_them() {
        assert_eq!(cell_text(&Data::Float(3.0)), "3");
        assert_eq!(cell_text(&Data::Float(2.5)), "2.5");
        assert_eq!(cell_text(&Data::Empty), "");
    }
}
