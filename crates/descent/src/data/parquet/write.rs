//! Writing Parquet: a file of named columns, each `f64` numbers or UTF-8 text (either may
//! hold nulls), a row group at a time, snappy-compressed, with the `parquet` crate's file
//! writer. What `generate --format parquet` and `predict --out FILE.parquet` write.
//!
//! The file is written to the path given; callers that must not leave half a file behind
//! write to a temporary path beside the destination and rename it when [`ParquetSink::finish`]
//! returns.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use crate::{Error, Result};

/// The kind of a written column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutKind {
    /// DOUBLE.
    Number,
    /// BYTE_ARRAY annotated as a UTF-8 string.
    Text,
}

/// One column's values of a row group; `None` is a null.
#[derive(Clone, Debug)]
pub enum OutColumn {
    Numbers(Vec<Option<f64>>),
    Texts(Vec<Option<String>>),
}

impl OutColumn {
    fn len(&self) -> usize {
        match self {
            OutColumn::Numbers(v) => v.len(),
            OutColumn::Texts(v) => v.len(),
        }
    }
}

/// A Parquet file being written a row group at a time.
pub struct ParquetSink {
    path: PathBuf,
    kinds: Vec<OutKind>,
    writer: Option<SerializedFileWriter<BufWriter<File>>>,
    /// Whether each column may hold nulls (an optional column) or not (required).
    nullable: Vec<bool>,
}

impl ParquetSink {
    /// Creates `path` with the columns `(name, kind, nullable)`.
    pub fn create(path: &Path, columns: &[(String, OutKind, bool)]) -> Result<Self> {
        let err = |reason: String| Error::Parquet {
            path: path.to_path_buf(),
            row_group: None,
            row: None,
            column: None,
            reason,
        };
        let mut fields = Vec::with_capacity(columns.len());
        for (name, kind, nullable) in columns {
            let (physical, logical) = match kind {
                OutKind::Number => (Physical::DOUBLE, None),
                OutKind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
            };
            let repetition = if *nullable {
                Repetition::OPTIONAL
            } else {
                Repetition::REQUIRED
            };
            let field = Type::primitive_type_builder(name, physical)
                .with_repetition(repetition)
                .with_logical_type(logical)
                .build()
                .map_err(|e| err(format!("column `{name}`: {e}")))?;
            fields.push(Arc::new(field));
        }
        let schema = Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map_err(|e| err(e.to_string()))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let file = File::create(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let writer =
            SerializedFileWriter::new(BufWriter::new(file), Arc::new(schema), Arc::new(props))
                .map_err(|e| err(e.to_string()))?;
        Ok(ParquetSink {
            path: path.to_path_buf(),
            kinds: columns.iter().map(|c| c.1).collect(),
            nullable: columns.iter().map(|c| c.2).collect(),
            writer: Some(writer),
        })
    }

    fn error(&self, reason: String) -> Error {
        Error::Parquet {
            path: self.path.clone(),
            row_group: None,
            row: None,
            column: None,
            reason,
        }
    }

    /// Writes one row group: a value list per column, all of one length, in column order.
    pub fn write_group(&mut self, columns: &[OutColumn]) -> Result<()> {
        if columns.len() != self.kinds.len() {
            return Err(self.error(format!(
                "{} columns for a schema of {}",
                columns.len(),
                self.kinds.len()
            )));
        }
        let rows = columns.first().map_or(0, OutColumn::len);
        if rows == 0 {
            return Ok(());
        }
        if columns.iter().any(|c| c.len() != rows) {
            return Err(self.error("columns of different lengths in one row group".into()));
        }
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| Error::Data("internal: the Parquet file was already finished".into()))?;
        let result = write_columns(writer, columns, &self.nullable);
        result.map_err(|reason| self.error(format!("cannot write a row group: {reason}")))
    }

    /// Writes the footer and closes the file.
    pub fn finish(mut self) -> Result<()> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let mut inner = writer
            .into_inner()
            .map_err(|e| self.error(format!("cannot finish the file: {e}")))?;
        std::io::Write::flush(&mut inner).map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// Writes `columns` as the next row group of `writer`.
fn write_columns(
    writer: &mut SerializedFileWriter<BufWriter<File>>,
    columns: &[OutColumn],
    nullable: &[bool],
) -> std::result::Result<(), String> {
    let fail = |e: parquet::errors::ParquetError| e.to_string();
    let mut group = writer.next_row_group().map_err(fail)?;
    for (c, column) in columns.iter().enumerate() {
        let mut out = group
            .next_column()
            .map_err(fail)?
            .ok_or("fewer columns in the file than given")?;
        let nullable = nullable[c];
        match column {
            OutColumn::Numbers(v) => {
                let (values, levels) = dense(v, nullable, |x| *x)?;
                out.typed::<DoubleType>()
                    .write_batch(&values, levels.as_deref(), None)
                    .map_err(fail)?;
            }
            OutColumn::Texts(v) => {
                let (values, levels) =
                    dense(v, nullable, |t| ByteArray::from(t.as_bytes().to_vec()))?;
                out.typed::<ByteArrayType>()
                    .write_batch(&values, levels.as_deref(), None)
                    .map_err(fail)?;
            }
        }
        out.close().map_err(fail)?;
    }
    group.close().map_err(fail)?;
    Ok(())
}

/// The non-null values and, for a nullable column, the definition levels (1 value, 0 null).
fn dense<T, V>(
    values: &[Option<T>],
    nullable: bool,
    convert: impl Fn(&T) -> V,
) -> std::result::Result<(Vec<V>, Option<Vec<i16>>), String> {
    if !nullable && values.iter().any(Option::is_none) {
        return Err("a null in a column that holds no nulls".into());
    }
    let dense = values.iter().flatten().map(convert).collect();
    let levels = nullable.then(|| values.iter().map(|v| i16::from(v.is_some())).collect());
    Ok((dense, levels))
}
