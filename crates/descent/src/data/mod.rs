//! Data: datasets read from CSV, Parquet or built in ([`DataSource`]), feature scaling, splits,
//! batching, and the sources of the training loop's batches ([`BatchSource`]).
//!
//! Everything here is `f64` and owned by a [`Dataset`]; the trainer converts once to the
//! precision of the run. Readers report problems with the file, line and column
//! ([`Error::Csv`](crate::Error::Csv)).

mod batches;
pub mod builtin;
pub(crate) mod csv_reader;
mod dataset;
mod delimiter;
pub mod gather;
pub mod generate;
mod hash_split;
pub mod memory;
mod onehot;
mod origin;
pub mod parquet;
mod scale;
mod shuffle;
mod source;
mod table;

pub use batches::{BatchOrder, BatchSize, Batches};
pub use csv_reader::{
    is_missing, parse_cell_as, read_csv, read_csv_bytes, read_csv_bytes_for, read_csv_bytes_with,
    read_csv_for, read_csv_with, read_text_table, too_large_for, Columns, ReadOptions, TargetKind,
};
pub use dataset::{split_rows, Dataset};
pub use delimiter::{detect as detect_delimiter, Delimiter};
pub use hash_split::{HashSplit, Part};
pub use onehot::{
    Categories, OneHot, OneHotColumns, OneHotMode, UnknownCategory, DEFAULT_MAX_CATEGORIES,
};
pub use origin::DataSource;
pub use scale::{Scaler, Scaling};
pub use source::{Batch, BatchSource, TableBatches};
pub use table::TrainData;
