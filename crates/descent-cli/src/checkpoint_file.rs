//! `DIR/checkpoint.json`: everything `descent train --resume DIR` needs to continue a run
//! exactly — the original command line, the trainer's state and the metrics so far.
//!
//! The file is written atomically (temporary file, then rename), so a run killed at any
//! moment leaves either the previous checkpoint or the new one. Its body is also covered by
//! an FNV-1a checksum, so a damaged or hand-edited checkpoint is detected, not loaded.

use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use descent::train::{Checkpoint, EpochRecord};
use descent::Float;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::fsutil::write_atomic;

const FORMAT: &str = "descent-checkpoint";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct Body<F: Float> {
    format: String,
    version: u32,
    dtype: String,
    /// The `descent train` arguments of the original run (without `--resume`).
    args: Vec<String>,
    metrics: Vec<EpochRecord>,
    state: Checkpoint<F>,
}

#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    body: &'a RawValue,
    checksum: String,
}

/// A loaded checkpoint.
pub struct Loaded<F: Float> {
    pub args: Vec<String>,
    pub metrics: Vec<EpochRecord>,
    pub state: Checkpoint<F>,
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join("checkpoint.json")
}

fn fnv1a(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Writes the checkpoint of a run into `dir` atomically.
pub fn save<F: Float>(
    dir: &Path,
    args: &[String],
    metrics: &[EpochRecord],
    state: &Checkpoint<F>,
) -> Result<()> {
    if state.params.iter().any(|v| !v.is_finite()) {
        bail!("refusing to checkpoint non-finite parameters");
    }
    let body = Body {
        format: FORMAT.into(),
        version: VERSION,
        dtype: F::NAME.into(),
        args: args.to_vec(),
        metrics: metrics.to_vec(),
        state: state.clone(),
    };
    let body = serde_json::to_string(&body).context("cannot serialize the checkpoint")?;
    write_atomic(&path(dir), seal(&body).as_bytes())
}

/// The file text for a body (JSON text): the body with its checksum. A body that is not
/// JSON is returned as it is (and will not load).
pub fn seal(body: &str) -> String {
    let checksum = fnv1a(body.as_bytes());
    match RawValue::from_string(body.to_string()) {
        Ok(raw) => serde_json::to_string(&Envelope {
            body: &raw,
            checksum,
        })
        .unwrap_or_else(|_| body.to_string()),
        Err(_) => body.to_string(),
    }
}

/// The dtype recorded in a checkpoint, and its text (to load with [`load`]).
pub fn peek(dir: &Path) -> Result<(String, String)> {
    let p = path(dir);
    let text = std::fs::read_to_string(&p).with_context(|| {
        format!(
            "cannot read checkpoint {} (was the run started with --checkpoint-every?)",
            p.display()
        )
    })?;
    let dtype = check(&p, &text)?;
    Ok((dtype, text))
}

/// Checks a checkpoint's envelope, checksum, format and version (`p` names it in errors);
/// returns its dtype.
pub fn check(p: &Path, text: &str) -> Result<String> {
    let damaged = || {
        format!("{} is damaged or was edited (checksum mismatch); resume from an earlier copy or start again", p.display())
    };
    let env: Envelope = serde_json::from_str(text).with_context(damaged)?;
    ensure!(fnv1a(env.body.get().as_bytes()) == env.checksum, damaged());
    #[derive(Deserialize)]
    struct Head {
        format: String,
        version: u32,
        dtype: String,
    }
    let head: Head = serde_json::from_str(env.body.get()).with_context(damaged)?;
    ensure!(
        head.format == FORMAT && head.version == VERSION,
        "{} is not a descent checkpoint of version {VERSION}",
        p.display()
    );
    Ok(head.dtype)
}

/// Parses a checkpoint's text (checked by [`peek`]) in precision `F`.
pub fn load<F: Float>(dir: &Path, text: &str) -> Result<Loaded<F>> {
    let p = path(dir);
    let env: Envelope = serde_json::from_str(text)?;
    let body: Body<F> = serde_json::from_str(env.body.get()).with_context(|| {
        format!(
            "{} does not hold a valid {} training state",
            p.display(),
            F::NAME
        )
    })?;
    Ok(Loaded {
        args: body.args,
        metrics: body.metrics,
        state: body.state,
    })
}
