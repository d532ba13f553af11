//! Reading a CSV file as a stream of rows, whatever its encoding and separator, without
//! holding more than one row (and a 64 KiB sniffing prefix) in memory.
//!
//! The bytes are parsed as CSV before they are decoded: separators, quotes and line
//! breaks are ASCII, and UTF-8 and the single-byte encodings (Windows-1252, Latin-1 …)
//! are ASCII-compatible, so the structure is the same in every one of them. Each cell is
//! then decoded on its own, so a byte that is not valid UTF-8 is reported on its row and
//! column instead of failing the file.

use std::io::{self, Chain, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use encoding_rs::Encoding;
use keel_domain::FieldErrors;

use crate::ServiceError;

/// How much of the file is looked at to guess its encoding and separator.
const SNIFF_BYTES: usize = 64 * 1024;

/// One data row as read. `row` counts data records from 1 (the header is not one, blank
/// lines are skipped); `line` is the physical line it starts on (the header is line 1).
#[derive(Debug, Clone)]
pub struct RawRow {
    pub row: u64,
    pub line: u64,
    pub cells: Vec<String>,
    /// Why the row cannot be read as it stands: (code, message, column index).
    pub problem: Option<(&'static str, String, Option<usize>)>,
}

impl RawRow {
    /// Only empty or blank cells: a spacer line, skipped.
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// Counts quote bytes as the CSV parser pulls them: an odd total at the end means a
/// quoted field was never closed.
struct QuoteCounter<R> {
    inner: R,
    quotes: Arc<AtomicU64>,
}

impl<R: Read> Read for QuoteCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let q = buf[..n].iter().filter(|b| **b == b'"').count() as u64;
        self.quotes.fetch_add(q, Ordering::Relaxed);
        Ok(n)
    }
}

type Source = QuoteCounter<Chain<Cursor<Vec<u8>>, Box<dyn Read + Send>>>;

/// An open CSV file: its encoding, separator and header, and the rows to come.
pub struct CsvFile {
    pub encoding: &'static Encoding,
    pub separator: u8,
    pub headers: Vec<String>,
    reader: csv::Reader<Source>,
    quotes: Arc<AtomicU64>,
    record: csv::ByteRecord,
    rows: u64,
    /// The row read but not handed out yet: the last row is only known to be complete
    /// once the end of the file shows every quote was closed.
    held: Option<RawRow>,
    done: bool,
}

fn file_error(code: &'static str, message: impl Into<String>) -> ServiceError {
    FieldErrors::single("file", code, message).into()
}

/// The encoding an `encoding` option names (WHATWG labels: `utf-8`, `windows-1252`,
/// `latin1`, `iso-8859-15` …). Latin-1 labels mean Windows-1252, its superset, as in
/// every browser. Encodings that are not ASCII-compatible (UTF-16) are refused.
pub fn encoding_for(label: &str) -> Result<&'static Encoding, ServiceError> {
    match Encoding::for_label(label.trim().as_bytes()) {
        Some(e) if e.is_ascii_compatible() && e != encoding_rs::UTF_16LE && e != encoding_rs::UTF_16BE => Ok(e),
        _ => Err(FieldErrors::single(
            "encoding",
            "unsupported_encoding",
            format!("`{label}` is not a supported encoding; use utf-8 or windows-1252 (latin1)"),
        )
        .into()),
    }
}

/// The separator an option names: `,` `;` `|`, `tab` or a tab character.
pub fn separator_for(s: &str) -> Result<u8, ServiceError> {
    match s {
        "tab" | "\t" | "\\t" => Ok(b'\t'),
        s if s.len() == 1 && matches!(s.as_bytes()[0], b',' | b';' | b'|') => Ok(s.as_bytes()[0]),
        _ => {
            Err(FieldErrors::single("separator", "invalid_separator", "separator must be `,`, `;`, `|` or `tab`")
                .into())
        }
    }
}

/// Valid UTF-8 (a sequence cut off by the end of the prefix is fine) → UTF-8; anything
/// else → Windows-1252, what spreadsheet programs on Windows write.
fn detect_encoding(prefix: &[u8]) -> &'static Encoding {
    match std::str::from_utf8(prefix) {
        Ok(_) => encoding_rs::UTF_8,
        Err(e) if e.error_len().is_none() => encoding_rs::UTF_8,
        Err(_) => encoding_rs::WINDOWS_1252,
    }
}

/// The separator the header line uses most, outside quotes (`,` when none does).
fn detect_separator(prefix: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let candidates = [b',', b';', b'\t'];
    let mut quoted = false;
    for &b in prefix {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = candidates.iter().position(|c| *c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|i| (counts[*i], std::cmp::Reverse(*i))).unwrap_or(0);
    if counts[best] == 0 { b',' } else { candidates[best] }
}

fn decode(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    if encoding == encoding_rs::UTF_8 {
        std::str::from_utf8(bytes).ok().map(str::to_string)
    } else {
        Some(encoding.decode_without_bom_handling(bytes).0.into_owned())
    }
}

impl CsvFile {
    /// Open `input`: skip a UTF-8 byte-order mark, settle the encoding and separator
    /// (given, or guessed from the first 64 KiB) and read the header.
    pub fn open(
        mut input: Box<dyn Read + Send>,
        encoding: Option<&'static Encoding>,
        separator: Option<u8>,
    ) -> Result<CsvFile, ServiceError> {
        let mut prefix = Vec::with_capacity(SNIFF_BYTES);
        (&mut input)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut prefix)
            .map_err(|e| file_error("unreadable", format!("the file could not be read: {e}")))?;
        if prefix.starts_with(&[0xFF, 0xFE]) || prefix.starts_with(&[0xFE, 0xFF]) {
            return Err(file_error("unsupported_encoding", "UTF-16 files are not supported: save the file as UTF-8"));
        }
        let bom = prefix.starts_with(&[0xEF, 0xBB, 0xBF]);
        if bom {
            prefix.drain(..3);
        }
        let encoding = encoding.unwrap_or_else(|| if bom { encoding_rs::UTF_8 } else { detect_encoding(&prefix) });
        let separator = separator.unwrap_or_else(|| detect_separator(&prefix));
        let quotes = Arc::new(AtomicU64::new(0));
        let source = QuoteCounter { inner: Cursor::new(prefix).chain(input), quotes: quotes.clone() };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(separator)
            .buffer_capacity(256 * 1024)
            .from_reader(source);
        let mut record = csv::ByteRecord::new();
        let has_header = reader
            .read_byte_record(&mut record)
            .map_err(|e| file_error("unreadable", format!("the file could not be read: {e}")))?;
        if !has_header {
            return Err(file_error("empty_file", "the file is empty: it needs a header line and rows"));
        }
        let mut headers = Vec::with_capacity(record.len());
        for (i, h) in record.iter().enumerate() {
            let h = decode(encoding, h).ok_or_else(|| {
                file_error(
                    "invalid_encoding",
                    format!("header {} is not valid {}; name the file's encoding", i + 1, encoding.name()),
                )
            })?;
            headers.push(h.trim().to_string());
        }
        if headers.iter().all(String::is_empty) {
            return Err(file_error("no_header", "the first line must name the columns"));
        }
        Ok(CsvFile { encoding, separator, headers, reader, quotes, record, rows: 0, held: None, done: false })
    }

    /// The next row, or None at the end of the file. I/O errors end the import.
    pub fn next_row(&mut self) -> Result<Option<RawRow>, ServiceError> {
        loop {
            if self.done {
                return Ok(self.held.take());
            }
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| ServiceError::Internal(format!("reading the import file: {e}")))?;
            if !more {
                self.done = true;
                if self.quotes.load(Ordering::Relaxed) % 2 == 1
                    && let Some(last) = self.held.as_mut()
                    && (last.cells.len() != self.headers.len() || last.cells.iter().any(|c| c.contains('\n')))
                {
                    last.problem = Some((
                        "broken_quoting",
                        format!("a quoted field starting on line {} is never closed", last.line),
                        None,
                    ));
                }
                continue;
            }
            self.rows += 1;
            let row = self.decode_record();
            if let Some(previous) = self.held.replace(row) {
                return Ok(Some(previous));
            }
        }
    }

    fn decode_record(&self) -> RawRow {
        let line = self.record.position().map_or(0, csv::Position::line);
        let mut cells = Vec::with_capacity(self.record.len());
        let mut problem = None;
        for (i, bytes) in self.record.iter().enumerate() {
            match decode(self.encoding, bytes) {
                Some(s) => cells.push(s),
                None => {
                    cells.push(String::from_utf8_lossy(bytes).into_owned());
                    if problem.is_none() {
                        problem = Some((
                            "invalid_encoding",
                            format!(
                                "bytes that are not valid {}: pass encoding=windows-1252 if the file is not UTF-8",
                                self.encoding.name()
                            ),
                            Some(i),
                        ));
                    }
                }
            }
        }
        let blank = cells.iter().all(|c| c.trim().is_empty());
        if problem.is_none() && !blank && cells.len() != self.headers.len() {
            problem = Some((
                "wrong_field_count",
                format!(
                    "expected {} fields as in the header, found {}: check the quoting and the separator",
                    self.headers.len(),
                    cells.len()
                ),
                None,
            ));
        }
        RawRow { row: self.rows, line, cells, problem }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(bytes: &[u8]) -> CsvFile {
        CsvFile::open(Box::new(Cursor::new(bytes.to_vec())), None, None).expect("opens")
    }

    fn rows(file: &mut CsvFile) -> Vec<RawRow> {
        let mut out = Vec::new();
        while let Some(r) = file.next_row().expect("reads") {
            out.push(r);
        }
        out
    }

    #[test]
    fn utf8_with_a_bom_and_commas() {
        let mut f = open("\u{feff}name,city\nAcme,Köln\n".as_bytes());
        assert_eq!(f.encoding, encoding_rs::UTF_8);
        assert_eq!(f.separator, b',');
        assert_eq!(f.headers, vec!["name", "city"]);
        let r = rows(&mut f);
        assert_eq!(r[0].cells, vec!["Acme", "Köln"]);
        assert_eq!((r[0].row, r[0].line), (1, 2));
    }

    #[test]
    fn windows_1252_with_semicolons_is_detected() {
        let mut f = open(b"name;city;price\nM\xfcller GmbH;K\xf6ln;\x8030\n");
        assert_eq!(f.encoding, encoding_rs::WINDOWS_1252);
        assert_eq!(f.separator, b';');
        assert_eq!(rows(&mut f)[0].cells, vec!["Müller GmbH", "Köln", "€30"]);
    }

    #[test]
    fn tabs_and_multi_line_quoted_fields() {
        let mut f = open(b"name\tnotes\nAcme\t\"line one\nline \"\"two\"\"\"\nBeta\tx\n");
        assert_eq!(f.separator, b'\t');
        let r = rows(&mut f);
        assert_eq!(r[0].cells[1], "line one\nline \"two\"");
        assert_eq!((r[1].row, r[1].line), (2, 4));
    }

    #[test]
    fn bad_bytes_wrong_counts_and_open_quotes_are_row_problems() {
        let input = b"a,b\nok,\xff\xfe\n1,2,3\n\n  \nfine,\"never closed\nmore\n".to_vec();
        let mut f = CsvFile::open(Box::new(Cursor::new(input)), Some(encoding_rs::UTF_8), None).expect("opens");
        assert_eq!(f.encoding, encoding_rs::UTF_8);
        let r = rows(&mut f);
        assert_eq!(r[0].problem.as_ref().map(|p| (p.0, p.2)), Some(("invalid_encoding", Some(1))));
        assert_eq!(r[1].problem.as_ref().map(|p| p.0), Some("wrong_field_count"));
        assert!(r[2].is_blank() && r[2].problem.is_none());
        assert_eq!(r[3].problem.as_ref().map(|p| p.0), Some("broken_quoting"));
        assert_eq!(r[3].line, 6);
    }

    #[test]
    fn empty_files_and_utf16_are_refused() {
        assert!(CsvFile::open(Box::new(Cursor::new(Vec::new())), None, None).is_err());
        assert!(CsvFile::open(Box::new(Cursor::new(vec![0xFF, 0xFE, b'a', 0])), None, None).is_err());
    }
}
