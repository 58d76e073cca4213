//! A CSV file streamed as *chunks* of data rows, which play the part of Parquet's row groups
//! (the unit a shuffle permutes, a resume skips and a rank passes over): one pass over the
//! file, when the data set is opened, records where each chunk's first row starts (its byte
//! offset and line, a `csv::Position`), a few dozen bytes a chunk; reading a chunk seeks
//! there and parses its rows. The parsing is the in-memory reader's (`csv_reader.rs`): the
//! same separator detection, byte-order mark, trimming, RFC 4180 quotes (a quoted field may
//! hold line breaks: positions are those of records, not of lines), blank lines skipped, and
//! errors naming the file, the line and the column.
//!
//! A chunk holds [`CSV_CHUNK_ROWS`] data rows unless the run asks for another number (the
//! last holds the rest); blank lines are not rows. A malformed line (a row with more fields
//! than the header, a quote left open) is found by the opening pass, before any training;
//! a bad cell (not a number, missing) when its chunk is read, as in memory.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::data::csv_reader::{csv_error, record_line};
use crate::data::Delimiter;
use crate::{Error, Result};

/// Data rows in a chunk of a streamed CSV file unless the run gives another number.
pub const CSV_CHUNK_ROWS: usize = 1 << 16;

/// Where the chunks of a CSV file start.
#[derive(Clone, Debug)]
pub struct CsvIndex {
    /// Bytes of a UTF-8 byte-order mark before the header (0 or 3); the positions count
    /// from after it.
    pub bom: u64,
    pub delimiter: u8,
    /// Each chunk's first data row.
    pub starts: Vec<csv::Position>,
    /// Bytes from each chunk's start to the next one's (the last: to the end of the data).
    pub bytes: Vec<u64>,
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The line a record read at `pos` of the file at `path` starts on ([`record_line`]: the
/// bytes after the position are read again, which only an error needs).
pub(super) fn file_line(path: &Path, bom: u64, pos: &csv::Position) -> u64 {
    let after = File::open(path).and_then(|mut f| {
        f.seek(SeekFrom::Start(bom + pos.byte()))?;
        Ok(f)
    });
    match after {
        Ok(f) => record_line(pos, BufReader::new(f).bytes().map_while(|b| b.ok())),
        Err(_) => pos.line(),
    }
}

/// The reader settings of the in-memory reader, for `delimiter`.
fn builder(delimiter: u8) -> csv::ReaderBuilder {
    let mut builder = csv::ReaderBuilder::new();
    builder
        .has_headers(true)
        .trim(csv::Trim::All)
        .delimiter(delimiter)
        .buffer_capacity(1 << 16);
    builder
}

/// Whether `record` is a blank line (the in-memory reader skips them).
fn is_blank(record: &csv::ByteRecord) -> bool {
    record.len() == 1 && record[0].is_empty()
}

/// The byte-order mark's length and the separator (given, or detected from the first lines
/// as the in-memory reader detects it).
pub(super) fn sniff(path: &Path, given: Option<Delimiter>) -> Result<(u64, u8)> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let mut head = Vec::new();
    let mut reader = BufReader::new(file);
    // The detection reads at most its sample of lines; read as many (or the whole file).
    for _ in 0..32 {
        if reader
            .read_until(b'\n', &mut head)
            .map_err(|e| io_error(path, e))?
            == 0
        {
            break;
        }
    }
    let bom = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let delimiter = given.map_or_else(|| crate::data::detect_delimiter(&head[bom..]), |d| d.0);
    Ok((bom as u64, delimiter))
}

/// Opens `path` after its byte-order mark as a CSV reader with `delimiter`.
pub(super) fn open_reader(path: &Path, bom: u64, delimiter: u8) -> Result<csv::Reader<File>> {
    let mut file = File::open(path).map_err(|e| io_error(path, e))?;
    file.seek(SeekFrom::Start(bom))
        .map_err(|e| io_error(path, e))?;
    Ok(builder(delimiter).from_reader(file))
}

/// One pass over the CSV file at `path`: its header (trimmed), the start of every chunk of
/// `chunk_rows` data rows, and the rows of each chunk.
pub fn index(
    path: &Path,
    given: Option<Delimiter>,
    chunk_rows: usize,
) -> Result<(Vec<String>, CsvIndex, Vec<u64>)> {
    let chunk_rows = chunk_rows.max(1) as u64;
    let (bom, delimiter) = sniff(path, given)?;
    let mut reader = open_reader(path, bom, delimiter)?;
    let line_of = |p: &csv::Position| file_line(path, bom, p);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, e, line_of))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut starts = Vec::new();
    let mut rows: Vec<u64> = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(path, e, line_of)),
        }
        if is_blank(&record) {
            continue;
        }
        match rows.last_mut() {
            Some(n) if *n < chunk_rows => *n += 1,
            _ => {
                let at = record.position().expect("a read record has a position");
                starts.push(at.clone());
                rows.push(1);
            }
        }
    }
    let end = reader.position().byte();
    let bytes = starts
        .iter()
        .enumerate()
        .map(|(k, s)| starts.get(k + 1).map_or(end, |n| n.byte()) - s.byte())
        .collect();
    let index = CsvIndex {
        bom,
        delimiter,
        starts,
        bytes,
    };
    Ok((header, index, rows))
}

/// The rows of one chunk being read.
pub(super) struct CsvChunk {
    reader: csv::Reader<File>,
    bom: u64,
    pub record: csv::StringRecord,
}

impl CsvChunk {
    /// Opens chunk `k` of the file at `path`.
    pub fn open(path: &Path, index: &CsvIndex, k: usize) -> Result<Self> {
        let mut reader = open_reader(path, index.bom, index.delimiter)?;
        let start = index.starts[k].clone();
        // Reads the header first, so that every row is checked against its field count.
        reader
            .seek_raw(SeekFrom::Start(index.bom + start.byte()), start)
            .map_err(|e| csv_error(path, e, |p| file_line(path, index.bom, p)))?;
        Ok(CsvChunk {
            reader,
            bom: index.bom,
            record: csv::StringRecord::new(),
        })
    }

    /// The next data row into `record` (blank lines passed over), and its position (for
    /// [`CsvChunk::line`], which only an error needs).
    pub fn next(&mut self, path: &Path) -> Result<csv::Position> {
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Error::Csv {
                        path: path.to_path_buf(),
                        line: None,
                        column: None,
                        reason: "the file ended before the rows counted when it was opened; did it change since?".into(),
                    })
                }
                Err(e) => return Err(csv_error(path, e, |p| file_line(path, self.bom, p))),
            }
            if !(self.record.len() == 1 && self.record[0].is_empty()) {
                let at = self
                    .record
                    .position()
                    .expect("a read record has a position");
                return Ok(at.clone());
            }
        }
    }

    /// The line of the record read at `pos` of the file at `path`.
    pub fn line(&self, path: &Path, pos: &csv::Position) -> u64 {
        file_line(path, self.bom, pos)
    }
}

/// The size of the CSV file at `path`, its header's fields and the mean bytes of a row
/// among its first thousand: what it takes to estimate its rows without reading it whole,
/// to decide whether to stream it.
pub fn estimate(path: &Path, given: Option<Delimiter>) -> Result<(u64, usize, f64)> {
    let size = std::fs::metadata(path)
        .map_err(|e| io_error(path, e))?
        .len();
    let (bom, delimiter) = sniff(path, given)?;
    let mut reader = open_reader(path, bom, delimiter)?;
    let fields = reader
        .headers()
        .map_err(|e| csv_error(path, e, |p| file_line(path, bom, p)))?
        .len();
    let start = reader.position().byte();
    let mut record = csv::ByteRecord::new();
    let mut lines = 0u64;
    while lines < 1000 && reader.read_byte_record(&mut record).unwrap_or(false) {
        lines += 1;
    }
    let sampled = reader.position().byte().saturating_sub(start);
    let per_line = if lines == 0 {
        1.0
    } else {
        sampled as f64 / lines as f64
    };
    Ok((size, fields, per_line.max(1.0)))
}
