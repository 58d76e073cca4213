//! [`ScheduleSpec::from_torch`]: a spec from a `torch.optim.lr_scheduler` class name and its
//! constructor arguments (as the oracle fixtures record them).

use serde_json::{Map, Value};

use super::syntax::Options;
use super::ScheduleSpec;
use crate::{Error, Result};

/// torch class names and the command-line names they map to.
const CLASSES: &[(&str, &str)] = &[
    ("ConstantLR", "constant"),
    ("StepLR", "step"),
    ("MultiStepLR", "multistep"),
    ("ExponentialLR", "exponential"),
    ("CosineAnnealingLR", "cosine"),
    ("CosineAnnealingWarmRestarts", "cosine-restarts"),
    ("LinearLR", "linear"),
    ("OneCycleLR", "onecycle"),
    ("CyclicLR", "cyclic"),
    ("LambdaLR", "inv-sqrt"),
    ("PolynomialLR", "polynomial"),
    ("ReduceLROnPlateau", "plateau"),
    ("SequentialLR", "sequential"),
];

impl ScheduleSpec {
    /// Reads torch's class name (`CosineAnnealingLR`, ...) and constructor arguments with
    /// torch's names (`T_max`, `eta_min`, ...); missing arguments take torch's defaults.
    ///
    /// `LambdaLR` needs `"lr_lambda": "inv_sqrt"` (the only lambda known: `1 / sqrt(epoch + 1)`).
    /// `SequentialLR` takes `"schedulers": [{"name", "options"}, ...]` and `"milestones"`.
    /// `last_epoch` other than -1 (resuming) is an error.
    pub fn from_torch(name: &str, options: &Map<String, Value>) -> Result<Self> {
        let text = format!("{name} {}", Value::Object(options.clone()));
        let err = |reason: String| Error::Parse {
            what: "torch scheduler",
            spec: text.clone(),
            reason,
        };
        let Some(&(_, cli)) = CLASSES.iter().find(|(c, _)| *c == name) else {
            let names: Vec<&str> = CLASSES.iter().map(|(c, _)| *c).collect();
            return Err(err(format!(
                "unknown scheduler `{name}`; accepted: {}",
                names.join(", ")
            )));
        };
        let mut options = options.clone();
        match options.remove("last_epoch") {
            None => {}
            Some(v) if v.as_i64() == Some(-1) => {}
            Some(v) => {
                return Err(err(format!(
                    "last_epoch={v}: resuming a torch scheduler is not supported"
                )))
            }
        }
        if matches!(
            options.get("verbose"),
            Some(Value::Bool(false)) | Some(Value::String(_))
        ) {
            options.remove("verbose");
        }
        let spec = match name {
            "SequentialLR" => sequential(&options).map_err(err)?,
            _ => {
                match name {
                    "ConstantLR" => {
                        fill(&mut options, "factor", Value::from(1.0 / 3.0));
                        fill(&mut options, "total_iters", Value::from(5));
                    }
                    "MultiStepLR" => {
                        // torch keeps a Counter of the milestones: their order does not matter.
                        if let Some(Value::Array(m)) = options.get_mut("milestones") {
                            m.sort_by_key(Value::as_u64);
                        }
                    }
                    "LambdaLR" => match options.remove("lr_lambda") {
                        Some(Value::String(s)) if s == "inv_sqrt" => {}
                        other => {
                            return Err(err(format!(
                                "LambdaLR needs `lr_lambda`: \"inv_sqrt\" (1 / sqrt(epoch + 1)), the only lambda supported; got {}",
                                other.map_or("nothing".into(), |v| v.to_string())
                            )))
                        }
                    },
                    "OneCycleLR" => {
                        let epochs = options.remove("epochs").and_then(|v| v.as_u64());
                        let per_epoch = options.remove("steps_per_epoch").and_then(|v| v.as_u64());
                        if options.get("total_steps").is_none_or(Value::is_null) {
                            if let (Some(e), Some(s)) = (epochs, per_epoch) {
                                options.insert("total_steps".into(), Value::from(e * s));
                            }
                        }
                    }
                    "ReduceLROnPlateau" => one_group(&mut options, &["min_lr"]).map_err(err)?,
                    "CyclicLR" => {
                        if options.get("scale_fn").is_some_and(|v| !v.is_null()) {
                            return Err(err("a custom scale_fn is not supported: use mode".into()));
                        }
                        let per_group = ["base_lr", "max_lr", "base_momentum", "max_momentum"];
                        one_group(&mut options, &per_group).map_err(err)?;
                    }
                    _ => {}
                }
                let pairs = to_pairs(&options).map_err(err)?;
                Options::new(&text, cli, pairs)?.spec()?
            }
        };
        spec.validate()?;
        Ok(spec)
    }
}

/// Replaces a one-element list (torch's value per parameter group) by its element.
fn one_group(options: &mut Map<String, Value>, keys: &[&str]) -> Result<(), String> {
    for key in keys {
        if let Some(Value::Array(a)) = options.get(*key) {
            if a.len() != 1 {
                return Err(format!(
                    "{key}: one value per parameter group, and there is one group"
                ));
            }
            let v = a[0].clone();
            options.insert(key.to_string(), v);
        }
    }
    Ok(())
}

fn fill(options: &mut Map<String, Value>, key: &str, value: Value) {
    if options.get(key).is_none_or(Value::is_null) {
        options.insert(key.into(), value);
    }
}

/// torch's option names and JSON values as command-line keys and value text.
fn to_pairs(options: &Map<String, Value>) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for (key, value) in options {
        let key = match key.as_str() {
            "T_max" => "t_max",
            "T_0" => "t_0",
            "T_mult" => "t_mult",
            k => k,
        };
        let text = match value {
            Value::Null => continue,
            Value::Array(items) => items
                .iter()
                .map(scalar)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("`{key}`: {e}"))?
                .join(";"),
            v => scalar(v).map_err(|e| format!("`{key}`: {e}"))?,
        };
        pairs.push((key.to_string(), text));
    }
    Ok(pairs)
}

/// A JSON scalar as text that parses back to the same value (floats: shortest round-trip).
fn scalar(v: &Value) -> Result<String, String> {
    match v {
        Value::Number(n) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
        Value::Number(n) => Ok(format!("{:?}", n.as_f64().unwrap_or(f64::NAN))),
        Value::Bool(b) => Ok(b.to_string()),
        Value::String(s) => Ok(s.clone()),
        other => Err(format!("unexpected value {other}")),
    }
}

fn sequential(options: &Map<String, Value>) -> Result<ScheduleSpec, String> {
    for key in options.keys() {
        if key != "schedulers" && key != "milestones" {
            return Err(format!(
                "unknown key `{key}` for SequentialLR; accepted keys: schedulers, milestones"
            ));
        }
    }
    let parts = options
        .get("schedulers")
        .and_then(Value::as_array)
        .ok_or("SequentialLR needs `schedulers`: [{\"name\", \"options\"}, ...]")?;
    let schedules = parts
        .iter()
        .map(|p| {
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .ok_or("a scheduler without `name`")?;
            let empty = Map::new();
            let opts = p
                .get("options")
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            ScheduleSpec::from_torch(name, opts).map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, String>>()?;
    let milestones = options
        .get("milestones")
        .and_then(Value::as_array)
        .ok_or("SequentialLR needs `milestones`: [int, ...]")?
        .iter()
        .map(|m| {
            m.as_u64()
                .map(|m| m as usize)
                .ok_or(format!("milestone {m} is not a non-negative integer"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(ScheduleSpec::Sequential {
        schedules,
        milestones,
    })
}
