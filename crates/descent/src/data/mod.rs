//! Data: datasets read from CSV or built in ([`DataSource`]), feature scaling, splits,
//! batching, and the sources of the training loop's batches ([`BatchSource`]).
//!
//! Everything here is `f64` and owned by a [`Dataset`]; the trainer converts once to the
//! precision of the run. Readers report problems with the file, line and column
//! ([`Error::Csv`](crate::Error::Csv)).

mod batches;
pub mod builtin;
mod csv_reader;
mod dataset;
pub mod gather;
pub mod generate;
pub mod memory;
mod origin;
mod scale;
mod source;
mod table;

pub use batches::{BatchOrder, BatchSize, Batches};
pub use csv_reader::{
    read_csv, read_csv_bytes, read_csv_bytes_for, read_csv_for, Columns, TargetKind,
};
pub use dataset::Dataset;
pub use origin::DataSource;
pub use scale::{Scaler, Scaling};
pub use source::{Batch, BatchSource, TableBatches};
pub use table::TrainData;
