//! `optim_replay`: one optimizer step at a time, fed a recorded gradient sequence.
//!
//! Step k passes `grads[k]` whatever the parameters are; `params[k+1]` (and for ASGD `ax[k+1]`)
//! is compared after it. The optimizer is built through [`OptimizerSpec`] from the case's
//! `optimizer.name` and only the options in `optimizer.explicit`, so the defaults are tested too.

use descent::optim::{DynOptimizer, GroupOptions, OptimizerSpec};
use descent::Float;
use serde_json::Value;

use crate::common::{self, Tolerance};

pub fn run(case: &Value) -> Result<(), String> {
    if common::is_f32(case)? {
        run_as::<f32>(case)
    } else {
        run_as::<f64>(case)
    }
}

/// The case's optimizer as a spec holding only the explicitly passed options.
pub fn spec_of(case: &Value) -> Result<OptimizerSpec, String> {
    let optimizer = common::field(case, "optimizer")?;
    let mut spec = OptimizerSpec::new(common::string(optimizer, "name")?);
    let options = common::field(optimizer, "options")?;
    let explicit = common::field(optimizer, "explicit")?
        .as_array()
        .ok_or("field `explicit` is not an array")?;
    for key in explicit {
        let key = key.as_str().ok_or("`explicit` holds a non-string")?;
        let value = common::field(options, key)?;
        spec = spec.with(key, value.clone());
    }
    Ok(spec)
}

/// Builds the spec's optimizer over one group of `n` parameters; returns it with its lr.
pub fn build<F: Float>(
    spec: &OptimizerSpec,
    n: usize,
) -> Result<(Box<dyn DynOptimizer<F>>, f64), String> {
    let lr = spec.lr().map_err(|e| e.to_string())?;
    let opt = spec
        .build::<F>(vec![(0..n, GroupOptions::default())])
        .map_err(|e| e.to_string())?;
    Ok((opt, lr))
}

pub fn to_f<F: Float>(xs: &[f64]) -> Vec<F> {
    xs.iter().map(|&x| F::of(x)).collect()
}

pub fn to_f64<F: Float>(xs: &[F]) -> Vec<f64> {
    xs.iter().map(|x| x.f64()).collect()
}

fn run_as<F: Float>(case: &Value) -> Result<(), String> {
    let tol = Tolerance::of(case)?;
    let steps = common::uint(case, "steps")?;
    let init = common::vec1(case, "param_init")?;
    let grads = common::vec2(case, "grads")?;
    let expected = common::vec2(case, "params")?;
    let expected_ax = match case.get("ax") {
        Some(_) => Some(common::vec2(case, "ax")?),
        None => None,
    };
    if grads.len() != steps || expected.len() != steps + 1 {
        return Err(format!(
            "{steps} steps but {} grads and {} params",
            grads.len(),
            expected.len()
        ));
    }
    let (mut opt, lr) = build::<F>(&spec_of(case)?, init.len())?;
    let mut params = to_f::<F>(&init);
    tol.check("params", &to_f64(&params), &expected[0])
        .map_err(|e| format!("start: {e}"))?;
    for (k, g) in grads.iter().enumerate() {
        opt.step(lr, &mut params, &to_f::<F>(g));
        tol.check("params", &to_f64(&params), &expected[k + 1])
            .map_err(|e| format!("after step {}: {e}", k + 1))?;
        if let Some(ax) = &expected_ax {
            let averaged = opt
                .averaged()
                .ok_or_else(|| format!("case has `ax` but {} keeps no average", opt.name()))?;
            tol.check("ax", &to_f64(&averaged), &ax[k + 1])
                .map_err(|e| format!("after step {}: {e}", k + 1))?;
        }
    }
    Ok(())
}
