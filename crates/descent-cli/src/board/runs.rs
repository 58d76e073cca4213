//! The runs under the board's directory: found by scanning it (any directory holding
//! `metrics.csv` or `events.jsonl`), and followed by tailing those files from where the last
//! read stopped. Only complete lines are read: a half-written last line waits for its end.
//! A file that cannot be read or parsed marks its run corrupt (listed, with the reason)
//! instead of stopping the board.
//!
//! Epoch records come from `events.jsonl` when the run has one (it carries wall times,
//! step samples, the start and the end), otherwise from `metrics.csv` (runs of releases
//! before the event file).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;
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
    /// The complete lines added since the last call; `None` when the file is gone. A file
    /// shorter than what was read was rewritten: reading starts again (`restarted`).
    fn read(&mut self, path: &Path) -> std::io::Result<Option<(Vec<String>, bool)>> {
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
        let text = String::from_utf8_lossy(&bytes[..end]);
        let lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        Ok(Some((lines, restarted)))
    }
}

/// One run directory and what has been read of it.
#[derive(Debug, Default)]
pub struct RunData {
    pub dir: PathBuf,
    pub records: Vec<Record>,
    pub steps: Vec<Record>,
    /// Per epoch of an adaptive optimizer: the effective step's quantiles (the line as read).
    pub effective: Vec<Value>,
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

    /// Reads what was added to the run's files; returns the updates for live clients.
    fn refresh(&mut self, name: &str) -> Vec<Update> {
        if self.corrupt.is_some() {
            return Vec::new();
        }
        let mut out = Vec::new();
        if let Err(reason) = self.read_files(name, &mut out) {
            self.corrupt = Some(reason);
            out.push(Update {
                run: name.to_string(),
                kind: "status",
                data: json!({ "status": "corrupt" }),
            });
        }
        out
    }

    fn read_files(&mut self, name: &str, out: &mut Vec<Update>) -> Result<(), String> {
        let events = self.dir.join(EVENTS_FILE);
        let update = |kind, data| Update {
            run: name.to_string(),
            kind,
            data,
        };
        match self.events.read(&events) {
            Ok(Some((lines, restarted))) => {
                if !self.from_events || restarted {
                    // The event file appeared (or was rewritten): it is the record now.
                    self.from_events = true;
                    self.records.clear();
                    self.steps.clear();
                    self.effective.clear();
                    self.start = None;
                    self.end = None;
                }
                for text in lines {
                    self.events.line += 1;
                    if text.trim().is_empty() {
                        continue;
                    }
                    let v: Value = serde_json::from_str(&text)
                        .map_err(|e| format!("{EVENTS_FILE} line {}: {e}", self.events.line))?;
                    match v["type"].as_str() {
                        Some("epoch") => {
                            let r = record(&v);
                            out.push(update(
                                "epoch",
                                serde_json::to_value(&r).unwrap_or_default(),
                            ));
                            self.records.push(r);
                        }
                        Some("step") => {
                            let r = record(&v);
                            out.push(update("step", serde_json::to_value(&r).unwrap_or_default()));
                            self.steps.push(r);
                        }
                        Some("effective_step") => {
                            out.push(update("effective_step", v.clone()));
                            self.effective.push(v);
                        }
                        Some("start") => {
                            // A resumed run goes on from its checkpoint's epoch.
                            let from = v["from_epoch"].as_u64().unwrap_or(0) as usize;
                            self.records.retain(|r| r.epoch <= from);
                            self.steps.retain(|r| r.epoch <= from);
                            self.effective
                                .retain(|v| v["epoch"].as_u64().unwrap_or(0) as usize <= from);
                            self.end = None;
                            self.start = Some(v.clone());
                            out.push(update("start", v));
                        }
                        Some("end") => {
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
            let metrics = self.dir.join("metrics.csv");
            match self.metrics.read(&metrics) {
                Ok(Some((lines, restarted))) => {
                    if restarted {
                        self.records.clear();
                    }
                    for text in lines {
                        self.metrics.line += 1;
                        if self.metrics.line == 1 {
                            if text.trim_end() != METRICS_HEADER {
                                return Err(format!(
                                    "metrics.csv line 1: expected the header `{METRICS_HEADER}`"
                                ));
                            }
                            continue;
                        }
                        let r = csv_record(&text).ok_or_else(|| {
                            format!("metrics.csv line {}: not a metrics row", self.metrics.line)
                        })?;
                        out.push(update(
                            "epoch",
                            serde_json::to_value(&r).unwrap_or_default(),
                        ));
                        self.records.push(r);
                    }
                }
                Ok(None) => {}
                Err(e) => return Err(format!("metrics.csv: {e}")),
            }
        }
        let summary = self.dir.join("summary.json");
        if let Ok(modified) = fs::metadata(&summary).and_then(|m| m.modified()) {
            if self.summary_modified != Some(modified) {
                let text =
                    fs::read_to_string(&summary).map_err(|e| format!("summary.json: {e}"))?;
                let v: Value =
                    serde_json::from_str(&text).map_err(|e| format!("summary.json: {e}"))?;
                self.summary = Some(v);
                self.summary_modified = Some(modified);
                out.push(update("status", json!({ "status": self.status() })));
            }
        }
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

    /// Every epoch record (and the step samples) as columns, the shape charts take.
    pub fn columns(&self, name: &str) -> Value {
        fn cols(rs: &[Record], with_val: bool) -> Value {
            let mut v = json!({
                "epoch": rs.iter().map(|r| r.epoch).collect::<Vec<_>>(),
                "step": rs.iter().map(|r| r.step).collect::<Vec<_>>(),
                "loss": rs.iter().map(|r| r.loss).collect::<Vec<_>>(),
                "lr": rs.iter().map(|r| r.lr).collect::<Vec<_>>(),
                "grad_norm": rs.iter().map(|r| r.grad_norm).collect::<Vec<_>>(),
                "time": rs.iter().map(|r| r.time).collect::<Vec<_>>(),
            });
            if with_val {
                v["val_loss"] = json!(rs.iter().map(|r| r.val_loss).collect::<Vec<_>>());
            }
            v
        }
        let mut v = cols(&self.records, true);
        v["run"] = json!(name);
        v["status"] = json!(self.status());
        v["steps"] = cols(&self.steps, false);
        let column =
            |k: &str| -> Vec<Value> { self.effective.iter().map(|e| e[k].clone()).collect() };
        v["effective_step"] = json!({
            "epoch": column("epoch"), "min": column("min"), "p10": column("p10"),
            "p50": column("p50"), "p90": column("p90"), "max": column("max"),
        });
        v
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

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn record(v: &Value) -> Record {
    Record {
        epoch: v["epoch"].as_u64().unwrap_or(0) as usize,
        step: v["step"].as_u64().unwrap_or(0) as usize,
        loss: num(&v["loss"]),
        val_loss: v["val_loss"].as_f64(),
        lr: num(&v["lr"]),
        grad_norm: num(&v["grad_norm"]),
        time: v["time"].as_f64(),
    }
}

fn csv_record(line: &str) -> Option<Record> {
    let f: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
    if f.len() != 6 {
        return None;
    }
    let float = |s: &str| s.parse::<f64>().ok();
    Some(Record {
        epoch: f[0].parse().ok()?,
        step: f[1].parse().ok()?,
        loss: float(f[2])?,
        val_loss: if f[3].is_empty() {
            None
        } else {
            Some(float(f[3])?)
        },
        lr: float(f[4])?,
        grad_norm: float(f[5])?,
        time: None,
    })
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
            if let std::collections::btree_map::Entry::Vacant(slot) = self.runs.entry(name) {
                let name = slot.key().clone();
                let mut run = RunData::new(dir);
                run.refresh(&name);
                out.push(Update {
                    run: name.clone(),
                    kind: "new",
                    data: run.listing(&name),
                });
                slot.insert(run);
            }
        }
        out
    }

    /// Reads what every run's files gained.
    pub fn refresh(&mut self) -> Vec<Update> {
        let mut out = Vec::new();
        for (name, run) in &mut self.runs {
            let before = run.status();
            out.extend(run.refresh(name));
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
