//! `descent generate`: synthetic data, streamed row by row as CSV or a row group at a time
//! as Parquet.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use descent::data::generate::{Generator, Spec};

use crate::args::{DataFormat, GenerateArgs};
use crate::fsutil::tmp_path;

pub fn run(args: GenerateArgs) -> Result<ExitCode> {
    let generator: Generator = args.kind.parse()?;
    let spec = Spec {
        rows: args.rows,
        features: args.features,
        noise: args.noise,
        seed: args.seed,
        classes: args.classes,
    };
    let parquet_name = args
        .out
        .as_ref()
        .and_then(|p| p.extension())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let format = args.format.unwrap_or(if parquet_name {
        DataFormat::Parquet
    } else {
        DataFormat::Csv
    });
    if format == DataFormat::Parquet {
        let Some(path) = &args.out else {
            bail!("--format parquet writes a file; give it with --out FILE.parquet");
        };
        if args.row_group_rows == 0 {
            bail!("--row-group-rows must be at least 1");
        }
        let tmp = tmp_path(path);
        let result = generator
            .write_parquet(&spec, &tmp, args.row_group_rows)
            .map_err(anyhow::Error::from)
            .and_then(|()| std::fs::rename(&tmp, path).map_err(Into::into));
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.context(format!("cannot write {}", path.display())));
        }
        return Ok(ExitCode::SUCCESS);
    }
    match &args.out {
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            generator.write_csv(&spec, &mut out)?;
            out.flush()?;
        }
        Some(path) => {
            // Stream into a temporary file, then rename: a failure never leaves a partial file.
            let tmp = tmp_path(path);
            let file = std::fs::File::create(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            let result = generator
                .write_csv(&spec, &mut out)
                .map_err(anyhow::Error::from)
                .and_then(|()| out.flush().map_err(Into::into))
                .and_then(|()| std::fs::rename(&tmp, path).map_err(Into::into));
            if let Err(e) = result {
                let _ = std::fs::remove_file(&tmp);
                return Err(e.context(format!("cannot write {}", path.display())));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
