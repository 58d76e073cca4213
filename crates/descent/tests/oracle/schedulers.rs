//! The `schedulers` family: a torch LR scheduler over `steps` steps, lr (and momentum) compared
//! step by step (`schedulers.json` from `gen.py` of the shared oracle; `schedulers_cyclic.json`
//! from `tests/fixtures/oracle/gen_cyclic.py`). Protocol (PyTorch 2.9.1):
//! `for i in 0..steps { lr[i] = current lr; optimizer.step(); scheduler.step() }`, with
//! `scheduler.step(metrics[i])` for ReduceLROnPlateau.

use descent::schedule::ScheduleSpec;
use serde_json::{Map, Value};

use crate::common::{self, Tolerance};

pub fn run(case: &Value) -> Result<(), String> {
    let tol = Tolerance::of(case)?;
    if common::is_f32(case)? {
        return Err("float32 scheduler cases are not supported (schedules run in f64)".into());
    }
    let optimizer = common::field(case, "optimizer")?;
    let opt_options = common::field(optimizer, "options")?;
    let base_lr = common::num(opt_options, "lr")?;
    let base_momentum = momentum_of(case, opt_options)?;

    let scheduler = common::field(case, "scheduler")?;
    let name = common::string(scheduler, "name")?;
    let mut options: Map<String, Value> = common::field(scheduler, "options")?
        .as_object()
        .ok_or("`scheduler.options` is not an object")?
        .clone();
    if let Some(lambda) = scheduler.get("lr_lambda") {
        options.insert("lr_lambda".into(), lambda.clone());
    }
    let steps = common::uint(case, "steps")?;
    let spec = ScheduleSpec::from_torch(name, &options).map_err(|e| e.to_string())?;
    let mut schedule = spec
        .build(base_lr, base_momentum, steps)
        .map_err(|e| e.to_string())?;

    let metrics = if spec.needs_metric() {
        Some(common::vec1(case, "metrics")?)
    } else {
        None
    };
    if metrics.as_ref().is_some_and(|m| m.len() != steps) {
        return Err(format!(
            "`metrics` has {} entries, not steps = {steps}",
            metrics.unwrap().len()
        ));
    }
    let expect_momentum = case.get("momentum").is_some();
    let (mut lr, mut momentum) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
    for i in 0..steps {
        lr.push(schedule.lr());
        if expect_momentum {
            momentum.push(schedule.momentum().ok_or_else(|| {
                format!("step {i}: the case records a momentum but `{spec}` cycles none")
            })?);
        }
        schedule.step(metrics.as_ref().map_or(f64::NAN, |m| m[i]));
    }
    tol.check("lr", &lr, &common::vec1(case, "lr")?)?;
    if expect_momentum {
        tol.check("momentum", &momentum, &common::vec1(case, "momentum")?)?;
    }
    Ok(())
}

/// The optimizer's momentum or beta1, chosen by `momentum_key` when the case gives one.
fn momentum_of(case: &Value, opt_options: &Value) -> Result<Option<f64>, String> {
    let from_momentum = || opt_options.get("momentum").and_then(Value::as_f64);
    let from_betas = || {
        opt_options
            .get("betas")
            .and_then(Value::as_array)
            .and_then(|b| b.first())
            .and_then(Value::as_f64)
    };
    match case.get("momentum_key").and_then(Value::as_str) {
        Some("momentum") => from_momentum()
            .map(Some)
            .ok_or("`momentum_key` is momentum but the optimizer has none".into()),
        Some("betas[0]") => from_betas()
            .map(Some)
            .ok_or("`momentum_key` is betas[0] but the optimizer has no betas".into()),
        Some(other) => Err(format!("unknown momentum_key `{other}`")),
        // torch cycles beta1 when the optimizer has betas, else momentum.
        None => Ok(from_betas().or_else(from_momentum)),
    }
}
