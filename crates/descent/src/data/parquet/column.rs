//! One Parquet column read a chunk of rows at a time: what its type means to a run (a
//! number, text, or neither) and the conversion of each value, with its nulls.
//!
//! Numbers: signed and unsigned integers of every width, float16/32/64, bool (0 or 1) and
//! decimals (from INT32, INT64 or bytes); each converts to the nearest `f64`, as the same
//! value written in a CSV file parses. Text: UTF-8 strings, enums, and dictionary-encoded
//! strings (the reader resolves the dictionary). Everything else (dates, timestamps,
//! binary, nested lists) is `Other`, refused by name when a run uses the column.

use parquet::basic::{ConvertedType, LogicalType, Type as Physical};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, DataType, FixedLenByteArray};
use parquet::schema::types::ColumnDescriptor;

/// How a column's values convert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conv {
    Bool,
    Int,
    UInt,
    Float,
    Float16,
    /// A decimal with `scale` digits after the point.
    Decimal(i32),
    Text,
}

/// What a column is to a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Values a run can read: numbers, or text (labels, one-hot categories).
    Read(Conv),
    /// A type no run reads, described for the message (`DATE`, `a list`, ...).
    Other(String),
}

/// The kind of the column `descr` describes.
pub fn kind(descr: &ColumnDescriptor) -> Kind {
    if descr.max_rep_level() > 0 {
        return Kind::Other("a repeated (list) column".into());
    }
    let logical = descr.logical_type_ref();
    let converted = descr.converted_type();
    let decimal = match logical {
        Some(LogicalType::Decimal(d)) => Some(d.scale),
        _ if converted == ConvertedType::DECIMAL => Some(descr.type_scale()),
        _ => None,
    };
    if let Some(scale) = decimal {
        return Kind::Read(Conv::Decimal(scale));
    }
    let other = |what: &str| Kind::Other(what.to_string());
    match (descr.physical_type(), logical) {
        (_, Some(LogicalType::Date)) => other("DATE"),
        (_, Some(LogicalType::Time(_))) => other("TIME"),
        (_, Some(LogicalType::Timestamp(_))) => other("TIMESTAMP"),
        (Physical::BOOLEAN, _) => Kind::Read(Conv::Bool),
        (Physical::INT32 | Physical::INT64, Some(LogicalType::Integer(t))) => {
            Kind::Read(if t.is_signed { Conv::Int } else { Conv::UInt })
        }
        (Physical::INT32 | Physical::INT64, _) => match converted {
            ConvertedType::UINT_8
            | ConvertedType::UINT_16
            | ConvertedType::UINT_32
            | ConvertedType::UINT_64 => Kind::Read(Conv::UInt),
            ConvertedType::DATE => other("DATE"),
            ConvertedType::TIME_MILLIS | ConvertedType::TIME_MICROS => other("TIME"),
            ConvertedType::TIMESTAMP_MILLIS | ConvertedType::TIMESTAMP_MICROS => other("TIMESTAMP"),
            _ => Kind::Read(Conv::Int),
        },
        (Physical::INT96, _) => other("INT96 (a timestamp)"),
        (Physical::FLOAT | Physical::DOUBLE, _) => Kind::Read(Conv::Float),
        (Physical::FIXED_LEN_BYTE_ARRAY, Some(LogicalType::Float16)) => Kind::Read(Conv::Float16),
        (Physical::FIXED_LEN_BYTE_ARRAY, Some(LogicalType::Uuid)) => other("UUID"),
        (Physical::FIXED_LEN_BYTE_ARRAY, _) => other("fixed-length binary"),
        (Physical::BYTE_ARRAY, _) => Kind::Read(Conv::Text),
    }
}

/// A chunk of one column's values: dense non-null values in the column's physical type,
/// and for each row whether it holds a value.
#[derive(Debug)]
pub enum Raw {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bytes(Vec<ByteArray>),
    Fixed(Vec<FixedLenByteArray>),
}

/// A column of a row group being read in order.
pub struct Cursor {
    reader: ColumnReader,
    conv: Conv,
    max_def: i16,
    levels: Vec<i16>,
    /// The values of the last [`read`](Cursor::read), dense (nulls left out).
    pub raw: Raw,
    /// Per row of the last read: whether it holds a value (false: null).
    pub valid: Vec<bool>,
}

fn read_typed<T: DataType>(
    r: &mut ColumnReaderImpl<T>,
    n: usize,
    levels: Option<&mut Vec<i16>>,
    out: &mut Vec<T::T>,
) -> parquet::errors::Result<usize> {
    let (records, _, _) = super::guard::caught(|| r.read_records(n, levels, None, out))?;
    Ok(records)
}

impl Cursor {
    pub fn new(reader: ColumnReader, descr: &ColumnDescriptor, conv: Conv) -> Self {
        let raw = match &reader {
            ColumnReader::BoolColumnReader(_) => Raw::Bool(Vec::new()),
            ColumnReader::Int32ColumnReader(_) => Raw::I32(Vec::new()),
            ColumnReader::Int64ColumnReader(_) | ColumnReader::Int96ColumnReader(_) => {
                Raw::I64(Vec::new())
            }
            ColumnReader::FloatColumnReader(_) => Raw::F32(Vec::new()),
            ColumnReader::DoubleColumnReader(_) => Raw::F64(Vec::new()),
            ColumnReader::ByteArrayColumnReader(_) => Raw::Bytes(Vec::new()),
            ColumnReader::FixedLenByteArrayColumnReader(_) => Raw::Fixed(Vec::new()),
        };
        Cursor {
            reader,
            conv,
            max_def: descr.max_def_level(),
            levels: Vec::new(),
            raw,
            valid: Vec::new(),
        }
    }

    /// How the column's values convert.
    pub fn conv(&self) -> Conv {
        self.conv
    }

    /// Reads the next `n` rows (fewer at the end of the row group); returns how many.
    pub fn read(&mut self, n: usize) -> parquet::errors::Result<usize> {
        self.levels.clear();
        let mut rows = 0;
        while rows < n {
            let levels = (self.max_def > 0).then_some(&mut self.levels);
            let got = match (&mut self.reader, &mut self.raw) {
                (ColumnReader::BoolColumnReader(r), Raw::Bool(v)) => {
                    clear_first(v, rows);
                    read_typed(r, n - rows, levels, v)?
                }
                (ColumnReader::Int32ColumnReader(r), Raw::I32(v)) => {
                    clear_first(v, rows);
                    read_typed(r, n - rows, levels, v)?
                }
                (ColumnReader::Int64ColumnReader(r), Raw::I64(v)) => {
                    clear_first(v, rows);
                    read_typed(r, n - rows, levels, v)?
                }
                (ColumnReader::FloatColumnReader(r), Raw::F32(v)) => {
                    clear_first(v, rows);
                    read_typed(r, n - rows, levels, v)?
                }
                (ColumnReader::DoubleColumnReader(r), Raw::F64(v)) => {
                    clear_first(v, rows);
                    read_typed(r, n - rows, levels, v)?
                }
                (ColumnReader::ByteArrayColumnReader(r), Raw::Bytes(v)) => {
                    clear_first(v, rows);
                    read_typed(r, n - rows, levels, v)?
                }
                (ColumnReader::FixedLenByteArrayColumnReader(r), Raw::Fixed(v)) => {
                    clear_first(v, rows);
                    read_typed(r, n - rows, levels, v)?
                }
                _ => {
                    return Err(parquet::errors::ParquetError::General(
                        "a column of a type this reader does not read".into(),
                    ))
                }
            };
            if got == 0 {
                break;
            }
            rows += got;
        }
        self.valid.clear();
        if self.max_def > 0 {
            if self.levels.len() != rows {
                return Err(parquet::errors::ParquetError::General(format!(
                    "{} definition levels for {rows} rows",
                    self.levels.len()
                )));
            }
            let max = self.max_def;
            self.valid.extend(self.levels.iter().map(|&l| l == max));
        } else {
            self.valid.resize(rows, true);
        }
        let present = self.valid.iter().filter(|&&v| v).count();
        if present != self.len_raw() {
            return Err(parquet::errors::ParquetError::General(format!(
                "{} values for {present} non-null rows",
                self.len_raw()
            )));
        }
        Ok(rows)
    }

    fn len_raw(&self) -> usize {
        match &self.raw {
            Raw::Bool(v) => v.len(),
            Raw::I32(v) => v.len(),
            Raw::I64(v) => v.len(),
            Raw::F32(v) => v.len(),
            Raw::F64(v) => v.len(),
            Raw::Bytes(v) => v.len(),
            Raw::Fixed(v) => v.len(),
        }
    }

    /// The last read's values as numbers, written straight to `out[i * stride]` for row `i`:
    /// the fast path of a column with no nulls of a plain numeric type (bool, integers,
    /// float32/64), converted as [`number`](Cursor::number) converts each. `false` when the
    /// column has a null, needs another conversion (decimals, float16, text) or holds a NaN
    /// or infinite value: `out` is then partly written, and the caller reads the column value
    /// by value, with the errors that path gives.
    pub fn fill_numbers(&self, out: &mut [f64], stride: usize) -> bool {
        if self.valid.len() != self.len_raw() || stride == 0 {
            return false;
        }
        let unsigned = self.conv == Conv::UInt;
        match (&self.raw, self.conv) {
            (_, Conv::Decimal(_) | Conv::Float16 | Conv::Text) => false,
            (Raw::Bool(v), _) => fill(v, out, stride, |b| f64::from(u8::from(b))),
            (Raw::I32(v), _) if unsigned => fill(v, out, stride, |x| f64::from(x as u32)),
            (Raw::I32(v), _) => fill(v, out, stride, f64::from),
            (Raw::I64(v), _) if unsigned => fill(v, out, stride, |x| x as u64 as f64),
            (Raw::I64(v), _) => fill(v, out, stride, |x| x as f64),
            (Raw::F32(v), _) => fill(v, out, stride, f64::from),
            (Raw::F64(v), _) => fill(v, out, stride, |x| x),
            (Raw::Bytes(_) | Raw::Fixed(_), _) => false,
        }
    }

    /// Value `k` of the dense values as a number, or why it is none.
    pub fn number(&self, k: usize) -> std::result::Result<f64, String> {
        let unsigned = self.conv == Conv::UInt;
        Ok(match (&self.raw, self.conv) {
            (Raw::Bool(v), _) => f64::from(u8::from(v[k])),
            (Raw::I32(v), Conv::Decimal(s)) => decimal(i128::from(v[k]), s),
            (Raw::I64(v), Conv::Decimal(s)) => decimal(i128::from(v[k]), s),
            (Raw::I32(v), _) if unsigned => f64::from(v[k] as u32),
            (Raw::I32(v), _) => f64::from(v[k]),
            (Raw::I64(v), _) if unsigned => v[k] as u64 as f64,
            (Raw::I64(v), _) => v[k] as f64,
            (Raw::F32(v), _) => f64::from(v[k]),
            (Raw::F64(v), _) => v[k],
            (Raw::Fixed(v), Conv::Float16) => {
                let b = v[k].data();
                if b.len() != 2 {
                    return Err(format!("a float16 value of {} bytes", b.len()));
                }
                half::f16::from_le_bytes([b[0], b[1]]).to_f64()
            }
            (Raw::Fixed(v), Conv::Decimal(s)) => decimal(be_int(v[k].data())?, s),
            (Raw::Bytes(v), Conv::Decimal(s)) => decimal(be_int(v[k].data())?, s),
            (Raw::Bytes(v), _) => {
                let text = String::from_utf8_lossy(v[k].data());
                return Err(format!("`{text}` is not a number"));
            }
            (Raw::Fixed(_), _) => return Err("a binary value is not a number".into()),
        })
    }

    /// Value `k` of the dense values as text: numbers exactly as stored (integers and
    /// decimals digit for digit, floats in the shortest form that reads back the same).
    pub fn text(&self, k: usize) -> std::result::Result<String, String> {
        let unsigned = self.conv == Conv::UInt;
        Ok(match (&self.raw, self.conv) {
            (Raw::Bytes(v), Conv::Text) => String::from_utf8_lossy(v[k].data()).into_owned(),
            (Raw::Bool(v), _) => if v[k] { "1" } else { "0" }.to_string(),
            (Raw::I32(v), Conv::Decimal(s)) => decimal_text(i128::from(v[k]), s),
            (Raw::I64(v), Conv::Decimal(s)) => decimal_text(i128::from(v[k]), s),
            (Raw::Fixed(v), Conv::Decimal(s)) => decimal_text(be_int(v[k].data())?, s),
            (Raw::Bytes(v), Conv::Decimal(s)) => decimal_text(be_int(v[k].data())?, s),
            (Raw::I32(v), _) if unsigned => (v[k] as u32).to_string(),
            (Raw::I32(v), _) => v[k].to_string(),
            (Raw::I64(v), _) if unsigned => (v[k] as u64).to_string(),
            (Raw::I64(v), _) => v[k].to_string(),
            _ => format!("{:?}", self.number(k)?),
        })
    }
}

/// `convert(values[i])` into `out[i * stride]`; whether every value is finite.
fn fill<T: Copy>(values: &[T], out: &mut [f64], stride: usize, convert: impl Fn(T) -> f64) -> bool {
    if out.len() < (values.len().max(1) - 1) * stride + usize::from(!values.is_empty()) {
        return false;
    }
    let mut finite = true;
    for (o, &v) in out.iter_mut().step_by(stride).zip(values) {
        let x = convert(v);
        finite &= x.is_finite();
        *o = x;
    }
    finite
}

fn clear_first<T>(v: &mut Vec<T>, rows_so_far: usize) {
    if rows_so_far == 0 {
        v.clear();
    }
}

/// A big-endian two's-complement integer of at most 16 bytes.
fn be_int(bytes: &[u8]) -> std::result::Result<i128, String> {
    if bytes.is_empty() || bytes.len() > 16 {
        return Err(format!(
            "a decimal of {} bytes (1 to 16 are read)",
            bytes.len()
        ));
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut b = [fill; 16];
    b[16 - bytes.len()..].copy_from_slice(bytes);
    Ok(i128::from_be_bytes(b))
}

/// `unscaled * 10^-scale` rounded once to the nearest `f64`, as the decimal text parses.
fn decimal(unscaled: i128, scale: i32) -> f64 {
    format!("{unscaled}e{}", -i64::from(scale))
        .parse()
        .unwrap_or(f64::NAN)
}

/// `unscaled * 10^-scale` as decimal text (`-123.45`).
fn decimal_text(unscaled: i128, scale: i32) -> String {
    if scale <= 0 {
        let zeros = "0".repeat(scale.unsigned_abs() as usize);
        return if unscaled == 0 {
            "0".into()
        } else {
            format!("{unscaled}{zeros}")
        };
    }
    let digits = unscaled.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    let sign = if unscaled < 0 { "-" } else { "" };
    format!("{sign}{int}.{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_read_as_their_text_parses() {
        assert_eq!(decimal_text(-12345, 2), "-123.45");
        assert_eq!(decimal_text(5, 3), "0.005");
        assert_eq!(decimal_text(7, -2), "700");
        assert_eq!(decimal(-12345, 2), -123.45);
        assert_eq!(decimal(5, 3), 0.005);
        assert_eq!(be_int(&[0xff, 0x85]).unwrap(), -123);
        assert_eq!(be_int(&[0x01, 0x00]).unwrap(), 256);
        assert!(be_int(&[0; 17]).is_err());
    }
}
