//! Parquet input: files written by pyarrow, pandas, polars, Spark or DuckDB, read with the
//! `parquet` crate's column readers (no Arrow: it builds in a quarter of the time, and the
//! column readers decode straight into the run's buffers).
//!
//! A data path names one file, a directory of files or a glob ([`ParquetFiles`]); every
//! file must have the same columns. [`read_parquet_with`] reads the data whole, under the
//! CSV reader's rules ([`ParquetTable`]); errors name the file, row group, row and column
//! ([`Error::Parquet`](crate::Error::Parquet)). Data larger than memory streams:
//! [`scan`] makes one pass for the statistics a run needs (rows, scalers, labels), and
//! [`ParquetBatches`] hands the batches over, in a seeded order resumable from a position.
//! [`ParquetSink`] writes files (generated data, predictions); [`ColumnChunks`] and its
//! CSV twin [`CsvRecords`] read chosen columns a chunk at a time for streamed prediction.
//!
//! A CSV file streams through the same reader, cut into chunks of rows that play the part of
//! row groups ([`ParquetFiles::open_csv`]); its errors name the file, line and column
//! ([`Error::Csv`](crate::Error::Csv)), as when it is read whole.

mod ahead;
mod chunks;
mod column;
mod csv_chunks;
mod csv_records;
mod files;
mod guard;
mod rows;
mod stats;
mod stream;
mod table;
mod wire;
mod write;

pub use ahead::AHEAD;
pub use chunks::{Chunk, ColumnChunks};
pub use column::{Conv, Cursor, Kind};
pub use csv_chunks::{estimate as estimate_csv, CsvIndex, CSV_CHUNK_ROWS};
pub use csv_records::{CsvRecords, CsvRows};
pub use files::{is_parquet, open, FileInfo, ParquetFiles};
pub use rows::{RowReader, Selection, CHUNK};
pub use stats::{scan, Moments, PartStats, StreamStats};
pub use stream::{shuffle_quality, ParquetBatches, ReadShare, StreamOrder};
pub use table::{read_parquet_with, resolve_columns, ParquetTable};
pub use write::{OutColumn, OutKind, ParquetSink};
