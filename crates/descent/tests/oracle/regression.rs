//! Family `regression`: linear, logistic and softmax regression on standardized scikit-learn
//! data, full-batch and mini-batch (with the recorded permutations as an explicit batch order),
//! through the real trainer.

use std::collections::BTreeMap;

use descent::data::{BatchOrder, BatchSize, Scaler};
use descent::loss::Loss;
use descent::nn::ModelKind;
use descent::params::{Init, Params};
use descent::schedule::Constant;
use descent::train::{
    evaluate, Event, EveryStep, Observer, Signal, TrainConfig, TrainData, Trainer,
};
use descent::Float;
use ndarray::Array2;
use serde_json::Value;

use super::common::{
    field, is_f32, loss_fn, num, optimizer_spec, string, uint, vec1, vec2, Tolerance,
};

pub fn run(file: &Value, case: &Value) -> Result<(), String> {
    if is_f32(case)? {
        run_typed::<f32>(file, case)
    } else {
        run_typed::<f64>(file, case)
    }
}

/// `{step, weight [out][f], bias [out]}` as (step, flat params in layout order).
fn snapshot(v: &Value) -> Result<(usize, Vec<f64>), String> {
    let mut flat: Vec<f64> = vec2(v, "weight")?.into_iter().flatten().collect();
    flat.extend(vec1(v, "bias")?);
    Ok((uint(v, "step")?, flat))
}

fn run_typed<F: Float>(file: &Value, case: &Value) -> Result<(), String> {
    let tol = Tolerance::of(case)?;
    let name = string(case, "dataset")?;
    let ds = field(field(file, "datasets")?, name)?;
    let raw = vec2(ds, "X")?;
    let (n, f) = (raw.len(), raw.first().map_or(0, Vec::len));
    let mut x = Array2::from_shape_vec((n, f), raw.into_iter().flatten().collect())
        .map_err(|e| e.to_string())?;
    let st = field(ds, "standardization")?;
    let scaler = Scaler::Standard {
        mean: vec1(st, "mean")?,
        std: vec1(st, "std")?,
    };
    scaler.transform(&mut x).map_err(|e| e.to_string())?;
    let y = Array2::from_shape_vec((n, 1), vec1(ds, "y")?).map_err(|e| e.to_string())?;
    let data = TrainData::<F> {
        x: x.mapv(F::of),
        y: y.mapv(F::of),
    };

    let m = field(case, "model")?;
    let loss = loss_fn(case)?;
    let kind = match (string(m, "type")?, loss) {
        ("linear", Loss::Mse | Loss::Mae | Loss::Huber { .. }) => ModelKind::Linear,
        ("logistic", Loss::BceWithLogits) => ModelKind::Logistic,
        ("softmax", Loss::CrossEntropy) => ModelKind::Softmax,
        (t, l) => return Err(format!("unknown model/loss pair `{t}`/`{l}`")),
    };
    let model = kind
        .build(uint(m, "in_features")?, uint(m, "out_features")?)
        .map_err(|e| e.to_string())?;
    let (init_step, init) = snapshot(field(case, "init")?)?;
    if init_step != 0 {
        return Err(format!("init.step is {init_step}, expected 0"));
    }
    let params = Params::<F>::init(model.layout(), &Init::Zeros).map_err(|e| e.to_string())?;
    let as64: Vec<f64> = params.values.iter().map(|v| v.f64()).collect();
    tol.check("init", &as64, &init)?;

    let steps = uint(case, "steps")?;
    let (epochs, batch, order) = match string(case, "mode")? {
        "full_batch" => (steps, BatchSize::Full, BatchOrder::Sequential),
        "minibatch" => {
            if case
                .get("drop_last")
                .and_then(Value::as_bool)
                .unwrap_or(false)
            {
                return Err("drop_last = true is not supported".into());
            }
            let perms = field(case, "permutations")?
                .as_array()
                .ok_or("`permutations` is not an array")?
                .iter()
                .map(|p| {
                    p.as_array()
                        .ok_or("a permutation is not an array")?
                        .iter()
                        .map(|i| {
                            i.as_u64()
                                .map(|i| i as usize)
                                .ok_or("a permutation index is not an integer")
                        })
                        .collect::<Result<Vec<usize>, _>>()
                })
                .collect::<Result<Vec<_>, _>>()?;
            (
                uint(case, "epochs")?,
                BatchSize::Rows(uint(case, "batch_size")?),
                BatchOrder::Explicit(perms),
            )
        }
        other => return Err(format!("unknown mode `{other}`")),
    };
    let spec = optimizer_spec(case)?;
    let lr = spec.lr().map_err(|e| e.to_string())?;
    let optimizer = spec
        .build::<F>(vec![(0..params.len(), Default::default())])
        .map_err(|e| e.to_string())?;
    let config = TrainConfig::new(epochs, batch, order);
    let mut trainer = Trainer::new(
        &model,
        loss,
        config,
        params,
        optimizer,
        Box::new(Constant { lr }),
    )
    .map_err(|e| e.to_string())?;
    let mut wanted = BTreeMap::new();
    for c in field(case, "checkpoints")?
        .as_array()
        .ok_or("`checkpoints` is not an array")?
    {
        let (s, p) = snapshot(c)?;
        wanted.insert(s, p);
    }
    let (mut losses, mut seen) = (Vec::new(), BTreeMap::new());
    let mut watch = EveryStep(|e: &Event<'_, F>| {
        if let Event::Step(r, p) = e {
            losses.push(r.loss);
            if wanted.contains_key(&r.step) {
                seen.insert(r.step, p.iter().map(|v| v.f64()).collect::<Vec<f64>>());
            }
        }
        Ok(Signal::Continue)
    });
    let outcome = trainer
        .run(&data, None, &mut [&mut watch as &mut dyn Observer<F>])
        .map_err(|e| e.to_string())?;
    if outcome.steps != steps {
        return Err(format!("took {} steps, expected {steps}", outcome.steps));
    }
    tol.check("loss", &losses, &vec1(case, "loss")?)?;
    for (s, expected) in &wanted {
        let got = seen
            .get(s)
            .ok_or_else(|| format!("no parameters recorded at step {s}"))?;
        tol.check("checkpoints", got, expected)?;
    }
    let (final_step, fin) = snapshot(field(case, "final")?)?;
    if final_step != steps {
        return Err(format!("final.step is {final_step}, expected {steps}"));
    }
    let ours: Vec<f64> = trainer.params.values.iter().map(|v| v.f64()).collect();
    tol.check("final", &ours, &fin)?;
    let final_loss = evaluate(&model, loss, &trainer.params, data.x.view(), data.y.view())
        .map_err(|e| e.to_string())?;
    tol.check_one("final_loss", final_loss, num(case, "final_loss")?)
}
