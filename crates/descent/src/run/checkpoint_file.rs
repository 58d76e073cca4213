//! `DIR/checkpoint.json`: everything needed to continue a run exactly — the run
//! specification, the trainer's state and the metrics so far.
//!
//! The file is written atomically (temporary file, then rename), so a run killed at any
//! moment leaves either the previous checkpoint or the new one. Its body is covered by an
//! FNV-1a checksum, so a damaged or hand-edited checkpoint is detected, not loaded.
//!
//! Versions: 2 (this release) stores the [`RunSpec`]; 1 (release 0.1) stored the
//! command line of `descent train`, which [`load`] hands back as [`Origin::Args`] for the
//! command-line front end to turn into a spec (renaming a flag never breaks a version-2
//! checkpoint).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::RunSpec;
use crate::files::{read_text, write_atomic};
use crate::train::{Checkpoint, EpochRecord};
use crate::{DType, Error, Float, Result};

const FORMAT: &str = "descent-checkpoint";
/// The version this release writes.
pub const VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
struct Body<F: Float> {
    format: String,
    version: u32,
    dtype: String,
    /// Version 2: the run specification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spec: Option<RunSpec>,
    /// Version 1: the `descent train` arguments of the original run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    args: Option<Vec<String>>,
    /// Version 2: the front end's own settings (the CLI's output options), opaque here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    front_end: Option<serde_json::Value>,
    metrics: Vec<EpochRecord>,
    state: Checkpoint<F>,
}

#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    body: &'a RawValue,
    checksum: String,
}

/// What a checkpoint says the run was.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// Version 2: the run specification.
    Spec(Box<RunSpec>),
    /// Version 1 (release 0.1): the `descent train` arguments, for the command line to parse.
    Args(Vec<String>),
}

/// A loaded checkpoint.
#[derive(Clone, Debug)]
pub struct SavedRun<F: Float> {
    pub origin: Origin,
    /// What the front end stored beside the spec ([`save`]'s `front_end`).
    pub front_end: Option<serde_json::Value>,
    /// The epoch records so far.
    pub metrics: Vec<EpochRecord>,
    pub state: Checkpoint<F>,
}

/// `DIR/checkpoint.json`.
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

/// Writes the checkpoint of a run into `dir` atomically; `front_end` holds whatever the
/// front end needs to continue the run as it was started (output options), opaque here.
pub fn save<F: Float>(
    dir: &Path,
    spec: &RunSpec,
    front_end: Option<&serde_json::Value>,
    metrics: &[EpochRecord],
    state: &Checkpoint<F>,
) -> Result<()> {
    if state.params.iter().any(|v| !v.is_finite()) {
        return Err(Error::State(
            "refusing to checkpoint non-finite parameters".into(),
        ));
    }
    let body = Body {
        format: FORMAT.into(),
        version: VERSION,
        dtype: F::NAME.into(),
        spec: Some(spec.clone()),
        args: None,
        front_end: front_end.cloned(),
        metrics: metrics.to_vec(),
        state: state.clone(),
    };
    let body = serde_json::to_string(&body)
        .map_err(|e| Error::State(format!("cannot serialize the checkpoint: {e}")))?;
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

/// The dtype recorded in `dir`'s checkpoint, and its text (to load with [`load`]).
pub fn peek(dir: &Path) -> Result<(DType, String)> {
    let p = path(dir);
    let text = read_text(&p).map_err(|e| {
        Error::State(format!(
            "cannot read checkpoint {} (was the run started with checkpoints on?): {}",
            p.display(),
            match e {
                Error::Io { source, .. } => source.to_string(),
                other => other.to_string(),
            }
        ))
    })?;
    let dtype = check(&p, &text)?;
    Ok((dtype, text))
}

/// Checks a checkpoint's envelope, checksum, format and version (`p` names it in errors);
/// returns its dtype.
pub fn check(p: &Path, text: &str) -> Result<DType> {
    let damaged = || {
        Error::State(format!(
            "{} is damaged or was edited (checksum mismatch); resume from an earlier copy or start again",
            p.display()
        ))
    };
    let env: Envelope = serde_json::from_str(text).map_err(|_| damaged())?;
    if fnv1a(env.body.get().as_bytes()) != env.checksum {
        return Err(damaged());
    }
    #[derive(Deserialize)]
    struct Head {
        format: String,
        version: u32,
        dtype: String,
    }
    let head: Head = serde_json::from_str(env.body.get()).map_err(|_| damaged())?;
    if head.format != FORMAT || !(1..=VERSION).contains(&head.version) {
        return Err(Error::State(format!(
            "{} is not a descent checkpoint this release reads (format `{}`, version {}; this release reads versions 1 to {VERSION})",
            p.display(),
            head.format,
            head.version
        )));
    }
    head.dtype.parse()
}

/// Parses a checkpoint's text (checked by [`peek`] or [`check`]) in precision `F`.
pub fn load<F: Float>(dir: &Path, text: &str) -> Result<SavedRun<F>> {
    let p = path(dir);
    let invalid = |e: String| {
        Error::State(format!(
            "{} does not hold a valid {} training state: {e}",
            p.display(),
            F::NAME
        ))
    };
    let env: Envelope = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let body: Body<F> = serde_json::from_str(env.body.get()).map_err(|e| invalid(e.to_string()))?;
    let origin = match (body.version, body.spec, body.args) {
        (1, _, Some(args)) => Origin::Args(args),
        (2, Some(spec), _) => Origin::Spec(Box::new(spec)),
        (v, _, _) => return Err(invalid(format!("version {v} without its run description"))),
    };
    Ok(SavedRun {
        origin,
        front_end: body.front_end,
        metrics: body.metrics,
        state: body.state,
    })
}
