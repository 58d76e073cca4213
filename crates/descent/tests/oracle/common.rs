//! Shared pieces of the oracle harness: JSON access with good errors, tolerances, comparison.

#![allow(dead_code)]

use serde_json::Value;

use std::cell::Cell;

thread_local! {
    /// The in-repo bound of the case being run (see [`set_in_repo_bound`]).
    static IN_REPO_BOUND: Cell<Option<f64>> = const { Cell::new(None) };
}

/// Sets the bound the repository holds its own replays to, beyond the fixture's tolerance
/// (the external contract): `|a - e| <= bound · max |e|` over each compared field (relative
/// to the field's largest magnitude, since trajectories cross zero); `Some(0.0)` demands the
/// same bits. `None` (a directory given with `DESCENT_ORACLE_DIR`): the fixture's tolerance
/// alone.
pub fn set_in_repo_bound(bound: Option<f64>) {
    IN_REPO_BOUND.with(|b| b.set(bound));
}

/// A per-case tolerance, with per-field overrides: `|a - e| <= atol + rtol * |e|`.
#[derive(Clone, Debug)]
pub struct Tolerance {
    rtol: f64,
    atol: f64,
    fields: Vec<(String, f64, f64)>,
    in_repo: Option<f64>,
}

impl Tolerance {
    pub fn of(case: &Value) -> Result<Self, String> {
        let t = field(case, "tolerance")?;
        let rtol = num(t, "rtol")?;
        let atol = num(t, "atol")?;
        let mut fields = Vec::new();
        if let Some(map) = t.get("fields").and_then(Value::as_object) {
            for (k, v) in map {
                fields.push((k.clone(), num(v, "rtol")?, num(v, "atol")?));
            }
        }
        let in_repo = IN_REPO_BOUND.with(Cell::get);
        Ok(Tolerance {
            rtol,
            atol,
            fields,
            in_repo,
        })
    }

    fn for_field(&self, name: &str) -> (f64, f64) {
        self.fields
            .iter()
            .find(|(k, _, _)| k == name)
            .map(|&(_, r, a)| (r, a))
            .unwrap_or((self.rtol, self.atol))
    }

    /// Compares element by element; the error names the field, the index and both values.
    pub fn check(&self, name: &str, actual: &[f64], expected: &[f64]) -> Result<(), String> {
        if actual.len() != expected.len() {
            return Err(format!(
                "{name}: length {} but expected {}",
                actual.len(),
                expected.len()
            ));
        }
        let (rtol, atol) = self.for_field(name);
        for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
            let ok = (a - e).abs() <= atol + rtol * e.abs() || (a.is_nan() && e.is_nan());
            if !ok {
                return Err(format!(
                    "{name}[{i}]: got {a:e}, expected {e:e} (|diff| {:e}, rtol {rtol:e}, atol {atol:e})",
                    (a - e).abs()
                ));
            }
        }
        if let Some(bound) = self.in_repo {
            let scale = expected.iter().fold(0.0f64, |m, e| m.max(e.abs()));
            for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
                let ok = (a - e).abs() <= bound * scale || (a.is_nan() && e.is_nan());
                if !ok {
                    return Err(format!(
                        "{name}[{i}]: got {a:e}, expected {e:e}: within the fixture's tolerance but not the repository's own bound ({bound:e} x {scale:e})"
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn check_one(&self, name: &str, actual: f64, expected: f64) -> Result<(), String> {
        self.check(name, &[actual], &[expected])
    }
}

pub fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    v.get(key).ok_or_else(|| format!("missing field `{key}`"))
}

pub fn num(v: &Value, key: &str) -> Result<f64, String> {
    field(v, key)?
        .as_f64()
        .ok_or_else(|| format!("field `{key}` is not a number"))
}

pub fn uint(v: &Value, key: &str) -> Result<usize, String> {
    field(v, key)?
        .as_u64()
        .map(|x| x as usize)
        .ok_or_else(|| format!("field `{key}` is not a non-negative integer"))
}

pub fn string<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    field(v, key)?
        .as_str()
        .ok_or_else(|| format!("field `{key}` is not a string"))
}

/// A flat list of numbers (`[f]`).
pub fn vec1(v: &Value, key: &str) -> Result<Vec<f64>, String> {
    to_vec1(field(v, key)?).map_err(|e| format!("field `{key}`: {e}"))
}

pub fn to_vec1(v: &Value) -> Result<Vec<f64>, String> {
    v.as_array()
        .ok_or("not an array")?
        .iter()
        .map(|x| x.as_f64().ok_or_else(|| format!("not a number: {x}")))
        .collect()
}

/// A list of lists of numbers (`[n][m]`).
pub fn vec2(v: &Value, key: &str) -> Result<Vec<Vec<f64>>, String> {
    field(v, key)?
        .as_array()
        .ok_or_else(|| format!("field `{key}` is not an array"))?
        .iter()
        .map(|row| to_vec1(row).map_err(|e| format!("field `{key}`: {e}")))
        .collect()
}

/// `"float64"` or `"float32"`.
pub fn is_f32(case: &Value) -> Result<bool, String> {
    match string(case, "dtype")? {
        "float64" => Ok(false),
        "float32" => Ok(true),
        other => Err(format!("unknown dtype `{other}`")),
    }
}

pub fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    let msg = p
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into());
    format!("panicked: {msg}")
}

/// The case's optimizer as a spec, built from the options listed in `explicit` only (so that
/// the defaults are tested too).
pub fn optimizer_spec(case: &Value) -> Result<descent::optim::OptimizerSpec, String> {
    let opt = field(case, "optimizer")?;
    let name = string(opt, "name")?;
    let options = field(opt, "options")?
        .as_object()
        .ok_or("optimizer.options is not an object")?;
    let explicit = field(opt, "explicit")?
        .as_array()
        .ok_or("optimizer.explicit is not an array")?;
    let mut spec = descent::optim::OptimizerSpec::new(name);
    for key in explicit {
        let key = key
            .as_str()
            .ok_or("optimizer.explicit holds a non-string")?;
        let value = options
            .get(key)
            .ok_or_else(|| format!("explicit option `{key}` missing from options"))?;
        spec = spec.with(key, value.clone());
    }
    Ok(spec)
}

/// A list of `{"weight": [out][in], "bias": [out]}` flattened in layout order.
pub fn layer_params(v: &Value, key: &str) -> Result<Vec<f64>, String> {
    let mut flat = Vec::new();
    for layer in field(v, key)?
        .as_array()
        .ok_or_else(|| format!("`{key}` is not an array"))?
    {
        for row in vec2(layer, "weight")? {
            flat.extend(row);
        }
        if layer.get("bias").is_some() {
            flat.extend(vec1(layer, "bias")?);
        }
    }
    Ok(flat)
}

/// The case's `loss_fn` (`{"name": "MSELoss", "reduction": "mean", ...}` or just the name).
pub fn loss_fn(case: &Value) -> Result<descent::loss::Loss, String> {
    use descent::loss::Loss;
    let v = field(case, "loss_fn")?;
    let (name, reduction) = match v {
        Value::String(s) => (s.as_str(), "mean"),
        Value::Object(_) => (
            string(v, "name")?,
            v.get("reduction").and_then(Value::as_str).unwrap_or("mean"),
        ),
        _ => return Err("`loss_fn` is neither a name nor an object".into()),
    };
    if reduction != "mean" {
        return Err(format!(
            "loss reduction `{reduction}` is not supported (only mean)"
        ));
    }
    Ok(match name {
        "MSELoss" => Loss::Mse,
        "L1Loss" => Loss::Mae,
        "HuberLoss" => Loss::Huber {
            delta: v.get("delta").and_then(Value::as_f64).unwrap_or(1.0),
        },
        "BCEWithLogitsLoss" => Loss::BceWithLogits,
        "CrossEntropyLoss" => Loss::CrossEntropy,
        other => return Err(format!("unknown loss_fn `{other}`")),
    })
}
