//! The field separator of a CSV file: given ([`Delimiter`]), or detected from the header
//! and the first lines ([`detect`]) among comma, tab, semicolon and pipe.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The separators [`detect`] tries, in order of preference.
pub const CANDIDATES: [u8; 4] = [b',', b'\t', b';', b'|'];

/// Lines (header included) that detection looks at.
const SAMPLE_LINES: usize = 20;

/// A one-byte field separator; written `,` `;` `|` `tab` (or `\t`), or any other single
/// ASCII character.
///
/// ```
/// use descent::data::Delimiter;
/// assert_eq!("tab".parse::<Delimiter>()?, Delimiter(b'\t'));
/// assert_eq!(";".parse::<Delimiter>()?.to_string(), ";");
/// assert!("ab".parse::<Delimiter>().is_err());
/// # Ok::<(), descent::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Delimiter(pub u8);

impl Delimiter {
    /// `comma`, `tab`, `semicolon`, `pipe` or the character in backticks, for messages.
    pub fn describe(self) -> String {
        match self.0 {
            b',' => "comma".into(),
            b'\t' => "tab".into(),
            b';' => "semicolon".into(),
            b'|' => "pipe".into(),
            c => format!("`{}`", c as char),
        }
    }
}

impl FromStr for Delimiter {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let byte = match s {
            "tab" | "\\t" | "\t" => b'\t',
            "comma" => b',',
            "semicolon" => b';',
            "pipe" => b'|',
            _ if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" && s != "\r" => {
                s.as_bytes()[0]
            }
            _ => {
                return Err(Error::invalid(
                    "delimiter",
                    s,
                    "expected one character: , ; | or tab",
                ))
            }
        };
        Ok(Delimiter(byte))
    }
}

impl fmt::Display for Delimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b'\t' => write!(f, "tab"),
            c => write!(f, "{}", c as char),
        }
    }
}

impl TryFrom<String> for Delimiter {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Delimiter> for String {
    fn from(d: Delimiter) -> Self {
        d.to_string()
    }
}

/// The separator of `bytes` (a CSV text, byte-order mark already removed): the first of
/// comma, tab, semicolon and pipe that splits the header into two or more fields and every
/// sampled line (the first 20) into as many; failing that, the first that splits the header
/// at all (so that a ragged row is reported as such); a comma when none does (one column).
///
/// ```
/// use descent::data::detect_delimiter;
/// assert_eq!(detect_delimiter(b"a;b;y\n1,5;2;3\n"), b';'); // decimal commas
/// assert_eq!(detect_delimiter(b"a\tb\n1\t2\n"), b'\t');
/// assert_eq!(detect_delimiter(b"name,y\n\"a|b\",1\n"), b',');
/// assert_eq!(detect_delimiter(b"y\n1\n"), b',');
/// ```
pub fn detect(bytes: &[u8]) -> u8 {
    let sample = sample(bytes);
    let counts: Vec<(u8, usize, bool)> = CANDIDATES
        .iter()
        .map(|&d| {
            let (header, consistent) = field_counts(sample, d);
            (d, header, consistent)
        })
        .collect();
    counts
        .iter()
        .find(|(_, header, consistent)| *header > 1 && *consistent)
        .or_else(|| counts.iter().find(|(_, header, _)| *header > 1))
        .map_or(b',', |(d, ..)| *d)
}

/// The first [`SAMPLE_LINES`] lines of `bytes`.
fn sample(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .nth(SAMPLE_LINES - 1)
        .map_or(bytes.len(), |(i, _)| i + 1);
    &bytes[..end]
}

/// The number of header fields with `delimiter`, and whether every sampled row (blank lines
/// aside) has as many.
fn field_counts(sample: &[u8], delimiter: u8) -> (usize, bool) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(sample);
    let mut rows = reader.byte_records();
    let header = match rows.next() {
        Some(Ok(r)) => r.len(),
        _ => return (0, false),
    };
    let consistent = rows.all(|r| {
        r.is_ok_and(|r| r.len() == header || (r.len() == 1 && r[0].trim_ascii().is_empty()))
    });
    (header, consistent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consistent_comma_file_stays_comma_even_with_other_separators_inside() {
        assert_eq!(detect(b"a,b;c,y\n1,2;3,4\n"), b',');
        assert_eq!(detect(b"a,y\n1,2\n\n3,4\n"), b',');
    }

    #[test]
    fn a_ragged_comma_file_stays_comma_so_the_row_is_reported() {
        assert_eq!(detect(b"x,y\n1,2\n1,2,3\n"), b',');
    }

    #[test]
    fn tab_semicolon_and_pipe_files_are_recognised() {
        assert_eq!(detect(b"a\tb\ty\n1\t2\t3\n"), b'\t');
        assert_eq!(detect(b"a;b;y\n1;2;3\n"), b';');
        assert_eq!(detect(b"a|b|y\n1|2|3\n"), b'|');
    }

    #[test]
    fn only_the_first_lines_are_looked_at() {
        let mut text = b"a;y\n".to_vec();
        for _ in 0..30 {
            text.extend_from_slice(b"1;2\n");
        }
        text.extend_from_slice(b"1;2;3;4\n");
        assert_eq!(detect(&text), b';');
    }

    #[test]
    fn names_round_trip() {
        for s in [",", ";", "|", "tab", ":"] {
            assert_eq!(s.parse::<Delimiter>().unwrap().to_string(), s);
        }
        assert_eq!("\\t".parse::<Delimiter>().unwrap(), Delimiter(b'\t'));
        assert!("\"".parse::<Delimiter>().is_err());
        assert!("".parse::<Delimiter>().is_err());
    }
}
