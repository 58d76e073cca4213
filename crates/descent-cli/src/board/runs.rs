//! The runs under the board's directory: found by scanning it (any directory holding
//! `metrics.csv` or `events.jsonl`), and followed by tailing those files from where the last
//! read stopped. Only complete lines are read: a half-written last line waits for its end.
//! A file that cannot be read or parsed marks its run corrupt (listed, with the reason)
//! instead of stopping the board.
//!
//! Epoch records come from `events.jsonl` when the run has one (it carries wall times,
//! step samples, the start and the end), otherwise from `metrics.csv` (runs of releases
//! before the event file). A run resumed from a checkpoint older than its event file takes
//! the epochs before the resume, which its event file lacks, from `metrics.csv`.
//!
//! Speed: epoch and step lines are parsed into typed records (serde derive, the line's
//! other fields skipped), and the first read of a run makes no live updates, so that a
//! thousand runs are read in a fraction of a second (`bench/board_speed.sh`).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::lock::LOCK_FILE;
use crate::observers::events::EVENTS_FILE;

/// How deep below the runs directory run directories are looked for.
const MAX_DEPTH: usize = 6;

/// The header `metrics.csv` starts with.
const METRICS_HEADER: &str = "epoch,step,loss,val_loss,lr,grad_norm";

/// One epoch (or one sampled step, without `val_loss`).
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub epoch: usize,
    pub step: usize,
    pub loss: f64,
    pub val_loss: Option<f64>,
    pub lr: f64,
    pub grad_norm: f64,
    /// Seconds since the Unix epoch (runs with an event file only).
    pub time: Option<f64>,
}

/// After an epoch of an adaptive optimizer: the quantiles of its effective per-parameter
/// step (`null` in the file, for a non-finite one, is `None`).
#[derive(Clone, Debug, Serialize)]
pub struct Effective {
    pub epoch: usize,
    pub min: Option<f64>,
    pub p10: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub max: Option<f64>,
}

/// What changed in a run, pushed to live clients.
#[derive(Clone, Debug)]
pub struct Update {
    pub run: String,
    /// `epoch`, `step`, `start`, `end`, `status` or `new`.
    pub kind: &'static str,
    pub data: Value,
}

/// A file read up to `offset` (the end of its last complete line).
#[derive(Debug, Default)]
struct Tail {
    offset: u64,
    /// Lines read so far (for messages).
    line: usize,
}

impl Tail {
    /// The complete lines added since the last call, as bytes up to the last newline (or
    /// none); `None` when the file is gone. A file shorter than what was read
    /// was rewritten: reading starts again (`restarted`).
    fn read(&mut self, path: &Path) -> std::io::Result<Option<(Vec<u8>, bool)>> {
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        let mut restarted = false;
        if len < self.offset {
            *self = Tail::default();
            restarted = true;
        }
        if len == self.offset {
            return Ok(Some((Vec::new(), restarted)));
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut bytes = Vec::with_capacity((len - self.offset) as usize);
        file.take(len - self.offset).read_to_end(&mut bytes)?;
        let Some(end) = bytes.iter().rposition(|&b| b == b'\n') else {
            return Ok(Some((Vec::new(), restarted)));
        };
        self.offset += end as u64 + 1;
        bytes.truncate(end + 1);
        Ok(Some((bytes, restarted)))
    }
}

/// The lines of what [`Tail::read`] returned, without their newlines.
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let text = bytes.strip_suffix(b"\n");
    text.into_iter().flat_map(|t| t.split(|&b| b == b'\n'))
}

/// One run directory and what has been read of it.
#[derive(Debug, Default)]
pub struct RunData {
    pub dir: PathBuf,
    pub records: Vec<Record>,
    pub steps: Vec<Record>,
    /// Per epoch of an adaptive optimizer: the effective step's quantiles.
    pub effective: Vec<Effective>,
    pub start: Option<Value>,
    pub end: Option<Value>,
    pub summary: Option<Value>,
    summary_modified: Option<SystemTime>,
    /// Why the run cannot be read, if it cannot.
    pub corrupt: Option<String>,
    /// Whether the records come from `events.jsonl`.
    from_events: bool,
    events: Tail,
    metrics: Tail,
}

impl RunData {
    fn new(dir: PathBuf) -> Self {
        RunData {
            dir,
            ..RunData::default()
        }
    }

    /// Reads what was added to the run's files; returns the updates for live clients
    /// (`live`: one per record too; the first read of a run sends none, its `new` listing
    /// says enough).
    fn refresh(&mut self, name: &str, live: bool) -> Vec<Update> {
        if self.corrupt.is_some() {
            return Vec::new();
        }
        let mut out = Vec::new();
        if let Err(reason) = self.read_files(name, live, &mut out) {
            self.corrupt = Some(reason);
            out.push(Update {
                run: name.to_string(),
                kind: "status",
                data: json!({ "status": "corrupt" }),
            });
        }
        out
    }

    fn read_files(&mut self, name: &str, live: bool, out: &mut Vec<Update>) -> Result<(), String> {
        let update = |kind, data| Update {
            run: name.to_string(),
            kind,
            data,
        };
        let record_update =
            |kind, r: &Record| update(kind, serde_json::to_value(r).unwrap_or_default());
        match self.events.read(&self.dir.join(EVENTS_FILE)) {
            Ok(Some((bytes, restarted))) => {
                if !self.from_events || restarted {
                    // The event file appeared (or was rewritten): it is the record now.
                    self.from_events = true;
                    self.records.clear();
                    self.steps.clear();
                    self.effective.clear();
                    self.start = None;
                    self.end = None;
                }
                for text in lines(&bytes) {
                    self.events.line += 1;
                    if text.trim_ascii().is_empty() {
                        continue;
                    }
                    let n = self.events.line;
                    let at = |e: serde_json::Error| format!("{EVENTS_FILE} line {n}: {e}");
                    // Epoch and step lines, nearly all of the file, are read straight into
                    // records; the rare others are kept whole.
                    let line: EventLine = serde_json::from_slice(text).map_err(at)?;
                    match &*line.kind {
                        "epoch" => {
                            let r = line.record();
                            if live {
                                out.push(record_update("epoch", &r));
                            }
                            self.records.push(r);
                        }
                        "step" => {
                            let r = line.record();
                            if live {
                                out.push(record_update("step", &r));
                            }
                            self.steps.push(r);
                        }
                        "effective_step" => {
                            if live {
                                let v: Value = serde_json::from_slice(text).map_err(at)?;
                                out.push(update("effective_step", v));
                            }
                            self.effective.push(line.effective());
                        }
                        "start" => {
                            // A resumed run goes on from its checkpoint's epoch.
                            let from = line.from_epoch.unwrap_or(0) as usize;
                            self.records.retain(|r| r.epoch <= from);
                            self.steps.retain(|r| r.epoch <= from);
                            self.effective.retain(|e| e.epoch <= from);
                            self.fill_history(from)?;
                            let v: Value = serde_json::from_slice(text).map_err(at)?;
                            self.end = None;
                            self.start = Some(v.clone());
                            out.push(update("start", v));
                        }
                        "end" => {
                            let v: Value = serde_json::from_slice(text).map_err(at)?;
                            self.end = Some(v.clone());
                            out.push(update("end", v));
                        }
                        _ => {
                            return Err(format!(
                                "{EVENTS_FILE} line {}: no known \"type\"",
                                self.events.line
                            ))
                        }
                    }
                }
            }
            Ok(None) => {}
            Err(e) => return Err(format!("{EVENTS_FILE}: {e}")),
        }
        if !self.from_events {
            match self.metrics.read(&self.dir.join("metrics.csv")) {
                Ok(Some((bytes, restarted))) => {
                    if restarted {
                        self.records.clear();
                    }
                    for text in lines(&bytes) {
                        self.metrics.line += 1;
                        let r = metrics_line(text, self.metrics.line)?;
                        if let Some(r) = r {
                            if live {
                                out.push(record_update("epoch", &r));
                            }
                            self.records.push(r);
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => return Err(format!("metrics.csv: {e}")),
            }
        }
        let summary = self.dir.join("summary.json");
        if let Ok(modified) = fs::metadata(&summary).and_then(|m| m.modified()) {
            if self.summary_modified != Some(modified) {
                let text = fs::read(&summary).map_err(|e| format!("summary.json: {e}"))?;
                let v: Value =
                    serde_json::from_slice(&text).map_err(|e| format!("summary.json: {e}"))?;
                self.summary = Some(v);
                self.summary_modified = Some(modified);
                out.push(update("status", json!({ "status": self.status() })));
            }
        }
        Ok(())
    }

    /// A run resumed from a checkpoint older than its event file (written before the event
    /// file existed, or after it was deleted) has no epoch lines up to `from` there:
    /// `metrics.csv`, which a resumed run starts with its checkpoint's rows, has them. The
    /// epochs up to `from` that the records lack are taken from it (without wall times).
    fn fill_history(&mut self, from: usize) -> Result<(), String> {
        if from == 0 || self.records.len() >= from {
            return Ok(());
        }
        let bytes = match fs::read(self.dir.join("metrics.csv")) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("metrics.csv: {e}")),
        };
        let have: HashSet<usize> = self.records.iter().map(|r| r.epoch).collect();
        for (i, text) in lines(&bytes).enumerate() {
            if let Some(r) = metrics_line(text, i + 1)? {
                if r.epoch <= from && !have.contains(&r.epoch) {
                    self.records.push(r);
                }
            }
        }
        // Stable: an epoch's own record stays before any other of the same number.
        self.records.sort_by_key(|r| r.epoch);
        Ok(())
    }

    /// `running`, `completed`, `diverged`, `early-stopped`, `stopped`, `unfinished` (no end
    /// and no live process: killed) or `corrupt`.
    pub fn status(&self) -> String {
        if self.corrupt.is_some() {
            return "corrupt".into();
        }
        if let Some(end) = &self.end {
            return end["outcome"]["stop"]["status"]
                .as_str()
                .unwrap_or("stopped")
                .into();
        }
        if lock_is_live(&self.dir) {
            return "running".into();
        }
        if let Some(s) = self
            .summary
            .as_ref()
            .and_then(|s| s["outcome"]["stop"]["status"].as_str())
        {
            return s.into();
        }
        "unfinished".into()
    }

    /// The run specification, from the start line or the summary.
    pub fn spec(&self) -> Option<&Value> {
        let from_start = self
            .start
            .as_ref()
            .map(|s| &s["spec"])
            .filter(|v| v.is_object());
        from_start.or_else(|| {
            self.summary
                .as_ref()
                .map(|s| &s["spec"])
                .filter(|v| v.is_object())
        })
    }

    /// One line of the run list.
    pub fn listing(&self, name: &str) -> Value {
        let spec = self.spec();
        let best = self
            .records
            .iter()
            .map(|r| r.loss)
            .filter(|l| l.is_finite())
            .min_by(f64::total_cmp);
        let start_time = self
            .start
            .as_ref()
            .and_then(|s| s["time"].as_f64())
            .or_else(|| self.records.first().and_then(|r| r.time));
        json!({
            "name": name,
            "status": self.status(),
            "model": spec.map(|s| describe(&s["model"])),
            "optimizer": spec.map(|s| describe_optimizer(&s["optimizer"])),
            "lr": spec.and_then(|s| s["optimizer"]["options"]["lr"].as_f64()).or_else(|| self.records.first().map(|r| r.lr)),
            "epochs": self.records.last().map_or(0, |r| r.epoch),
            "epochs_total": spec.and_then(|s| s["epochs"].as_u64()),
            "best_loss": best,
            "last_loss": self.records.last().map(|r| r.loss),
            "start_time": start_time,
            "corrupt": self.corrupt,
        })
    }

    /// Every epoch record (and the step samples) as columns, the shape charts take;
    /// serialized straight from the records.
    pub fn columns<'a>(&'a self, name: &'a str) -> Columns<'a> {
        Columns { name, run: self }
    }

    /// The figures in the run directory (what `/files/` serves).
    pub fn figures(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| is_figure_name(n))
            .collect();
        names.sort();
        names
    }
}

/// [`RunData::columns`]: `run`, `status`, the columns of the records (`epoch`, `step`,
/// `loss`, `val_loss`, `lr`, `grad_norm`, `time`), `steps` (the same of the step samples,
/// without `val_loss`) and `effective_step` (`epoch`, `min`, `p10`, `p50`, `p90`, `max`).
pub struct Columns<'a> {
    name: &'a str,
    run: &'a RunData,
}

/// One field of every record, as a JSON array (a non-finite number is `null`).
struct Column<'a, R, T>(&'a [R], fn(&R) -> T);

impl<R, T: Serialize> Serialize for Column<'_, R, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(self.1))
    }
}

/// The columns of `records` as entries of the map being written.
fn record_columns<M: SerializeMap>(
    m: &mut M,
    records: &[Record],
    val: bool,
) -> Result<(), M::Error> {
    m.serialize_entry("epoch", &Column(records, |r| r.epoch))?;
    m.serialize_entry("step", &Column(records, |r| r.step))?;
    m.serialize_entry("loss", &Column(records, |r| r.loss))?;
    if val {
        m.serialize_entry("val_loss", &Column(records, |r| r.val_loss))?;
    }
    m.serialize_entry("lr", &Column(records, |r| r.lr))?;
    m.serialize_entry("grad_norm", &Column(records, |r| r.grad_norm))?;
    m.serialize_entry("time", &Column(records, |r| r.time))
}

/// The `steps` member: the step samples' columns.
struct StepColumns<'a>(&'a [Record]);

impl Serialize for StepColumns<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        record_columns(&mut m, self.0, false)?;
        m.end()
    }
}

impl Serialize for Columns<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let run = self.run;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("run", self.name)?;
        m.serialize_entry("status", &run.status())?;
        record_columns(&mut m, &run.records, true)?;
        m.serialize_entry("steps", &StepColumns(&run.steps))?;
        m.serialize_entry("effective_step", &EffectiveColumns(&run.effective))?;
        m.end()
    }
}

/// The `effective_step` member: `epoch`, `min`, `p10`, `p50`, `p90`, `max`.
struct EffectiveColumns<'a>(&'a [Effective]);

impl Serialize for EffectiveColumns<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry("epoch", &Column(e, |e| e.epoch))?;
        m.serialize_entry("min", &Column(e, |e| e.min))?;
        m.serialize_entry("p10", &Column(e, |e| e.p10))?;
        m.serialize_entry("p50", &Column(e, |e| e.p50))?;
        m.serialize_entry("p90", &Column(e, |e| e.p90))?;
        m.serialize_entry("max", &Column(e, |e| e.max))?;
        m.end()
    }
}

/// A file name `/files/` may serve: a plain name of a figure (png, svg, gif).
pub fn is_figure_name(name: &str) -> bool {
    !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && [".png", ".svg", ".gif"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

fn describe(model: &Value) -> String {
    match model {
        Value::String(s) => s.clone(),
        Value::Object(m) => match (m.get("kind").or(m.get("type")), m.get("hidden")) {
            (Some(Value::String(k)), Some(h)) => format!("{k} {h}"),
            (Some(Value::String(k)), None) => k.clone(),
            _ => model.to_string(),
        },
        other => other.to_string(),
    }
}

fn describe_optimizer(o: &Value) -> String {
    o["name"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| describe(o))
}

/// What the board reads of every `events.jsonl` line; the fields of other lines (the run
/// specification of `start`, ...) are skipped here and read as a whole where needed.
#[derive(Deserialize)]
struct EventLine<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    epoch: Option<u64>,
    step: Option<u64>,
    loss: Option<f64>,
    val_loss: Option<f64>,
    lr: Option<f64>,
    grad_norm: Option<f64>,
    time: Option<f64>,
    from_epoch: Option<u64>,
    min: Option<f64>,
    p10: Option<f64>,
    p50: Option<f64>,
    p90: Option<f64>,
    max: Option<f64>,
}

impl EventLine<'_> {
    /// A missing or `null` number (non-finite when written) is NaN; a missing count is 0.
    fn record(&self) -> Record {
        Record {
            epoch: self.epoch.unwrap_or(0) as usize,
            step: self.step.unwrap_or(0) as usize,
            loss: self.loss.unwrap_or(f64::NAN),
            val_loss: self.val_loss,
            lr: self.lr.unwrap_or(f64::NAN),
            grad_norm: self.grad_norm.unwrap_or(f64::NAN),
            time: self.time,
        }
    }

    fn effective(&self) -> Effective {
        Effective {
            epoch: self.epoch.unwrap_or(0) as usize,
            min: self.min,
            p10: self.p10,
            p50: self.p50,
            p90: self.p90,
            max: self.max,
        }
    }
}

/// Line `number` (from 1) of `metrics.csv`: the header (checked, `None`) or a row.
fn metrics_line(text: &[u8], number: usize) -> Result<Option<Record>, String> {
    let text = std::str::from_utf8(text).unwrap_or("");
    if number == 1 {
        if text.trim_end() != METRICS_HEADER {
            return Err(format!(
                "metrics.csv line 1: expected the header `{METRICS_HEADER}`"
            ));
        }
        return Ok(None);
    }
    csv_record(text)
        .map(Some)
        .ok_or_else(|| format!("metrics.csv line {number}: not a metrics row"))
}

fn csv_record(line: &str) -> Option<Record> {
    let mut f = line.trim_end_matches('\r').split(',');
    let mut next = || f.next();
    let float = |s: &str| s.parse::<f64>().ok();
    let r = Record {
        epoch: next()?.parse().ok()?,
        step: next()?.parse().ok()?,
        loss: float(next()?)?,
        val_loss: match next()? {
            "" => None,
            v => Some(float(v)?),
        },
        lr: float(next()?)?,
        grad_norm: float(next()?)?,
        time: None,
    };
    f.next().is_none().then_some(r)
}

/// Whether `dir/run.lock` names a process that is alive.
fn lock_is_live(dir: &Path) -> bool {
    let Ok(text) = fs::read_to_string(dir.join(LOCK_FILE)) else {
        return false;
    };
    let Ok(pid) = text.trim().parse::<i32>() else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    pid > 0 && unsafe { libc::kill(pid, 0) } == 0
}

/// Every run under the root, by name (its path below the root, `/`-separated).
#[derive(Debug)]
pub struct Index {
    pub root: PathBuf,
    pub runs: BTreeMap<String, RunData>,
}

impl Index {
    /// An empty index of `root` (canonical).
    pub fn new(root: PathBuf) -> Self {
        Index {
            root,
            runs: BTreeMap::new(),
        }
    }

    /// Adds the run directories that appeared, drops those that are gone.
    pub fn scan(&mut self) -> Vec<Update> {
        let mut found = Vec::new();
        find_runs(&self.root, &self.root, 0, &mut found);
        let mut out = Vec::new();
        self.runs.retain(|_, r| r.dir.is_dir());
        let mut new = Vec::new();
        for dir in found {
            let Ok(rel) = dir.strip_prefix(&self.root) else {
                continue;
            };
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let name = if name.is_empty() {
                ".".to_string()
            } else {
                name
            };
            if !self.runs.contains_key(&name) {
                new.push((name, RunData::new(dir)));
            }
        }
        read_first(&mut new);
        for (name, run) in new {
            out.push(Update {
                run: name.clone(),
                kind: "new",
                data: run.listing(&name),
            });
            self.runs.insert(name, run);
        }
        out
    }

    /// Reads what every run's files gained.
    pub fn refresh(&mut self) -> Vec<Update> {
        let mut out = Vec::new();
        for (name, run) in &mut self.runs {
            let before = run.status();
            out.extend(run.refresh(name, true));
            let after = run.status();
            if after != before {
                out.push(Update {
                    run: name.clone(),
                    kind: "status",
                    data: json!({ "status": after }),
                });
            }
        }
        out
    }
}

/// The first read of new runs (all of their files), on as many threads as there are cores:
/// a board started on a thousand runs reads them all before it answers.
fn read_first(runs: &mut [(String, RunData)]) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = threads.min(runs.len());
    // Each thread takes the next run: one long run does not hold up a share of the others.
    let next = std::sync::Mutex::new(runs.iter_mut());
    let take = || next.lock().ok().and_then(|mut runs| runs.next());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some((name, run)) = take() {
                    run.refresh(name, false);
                }
            });
        }
    });
}

/// Run directories below `dir`, not following links that lead outside `root`.
fn find_runs(root: &Path, dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if dir.join("metrics.csv").is_file() || dir.join(EVENTS_FILE).is_file() {
        out.push(dir.to_path_buf());
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let Ok(kind) = e.file_type() else { continue };
        let path = e.path();
        if kind.is_dir() {
            dirs.push(path);
        } else if kind.is_symlink() {
            // A link is followed only when it stays inside the runs directory.
            if let Ok(target) = fs::canonicalize(&path) {
                if target.starts_with(root) && target.is_dir() && target != root {
                    dirs.push(path);
                }
            }
        }
    }
    dirs.sort();
    for d in dirs {
        find_runs(root, &d, depth + 1, out);
    }
}
