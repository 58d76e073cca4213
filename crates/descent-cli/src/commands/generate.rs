//! `descent generate`: synthetic CSV data, streamed row by row.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use descent::data::generate::{Generator, Spec};

use crate::args::GenerateArgs;
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
