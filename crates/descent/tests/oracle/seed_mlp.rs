//! Family `seed_mlp`: the 2-3-2-12-2 sigmoid network with MSE, trained full-batch through the
//! real model, autodiff, optimizer and trainer, in float64 and float32.

use descent::data::{BatchOrder, BatchSize};
use descent::nn::{Layer, Sequential};
use descent::params::Params;
use descent::schedule::Constant;
use descent::train::{
    evaluate, Event, EveryStep, Observer, Signal, TrainConfig, TrainData, Trainer,
};
use descent::Float;
use ndarray::Array2;
use serde_json::Value;

use super::common::{
    field, is_f32, layer_params, loss_fn, num, optimizer_spec, string, uint, vec1, vec2, Tolerance,
};

pub fn run(case: &Value) -> Result<(), String> {
    if is_f32(case)? {
        run_typed::<f32>(case)
    } else {
        run_typed::<f64>(case)
    }
}

fn layers(case: &Value) -> Result<Sequential, String> {
    let mut layers = Vec::new();
    for l in field(case, "layers")?
        .as_array()
        .ok_or("`layers` is not an array")?
    {
        layers.push(match string(l, "type")? {
            "linear" => Layer::Linear {
                in_features: uint(l, "in_features")?,
                out_features: uint(l, "out_features")?,
                bias: l.get("bias").and_then(Value::as_bool).unwrap_or(true),
            },
            "sigmoid" => Layer::Sigmoid,
            "tanh" => Layer::Tanh,
            "relu" => Layer::Relu,
            other => return Err(format!("unknown layer type `{other}`")),
        });
    }
    Sequential::new(layers).map_err(|e| e.to_string())
}

fn matrix<F: Float>(rows: Vec<Vec<f64>>) -> Result<Array2<F>, String> {
    let n = rows.len();
    let k = rows.first().map_or(0, Vec::len);
    Array2::from_shape_vec((n, k), rows.into_iter().flatten().map(F::of).collect())
        .map_err(|e| e.to_string())
}

fn run_typed<F: Float>(case: &Value) -> Result<(), String> {
    let tol = Tolerance::of(case)?;
    let model = layers(case)?;
    let loss = loss_fn(case)?;
    let data = TrainData::<F> {
        x: matrix(vec2(case, "input")?)?,
        y: matrix(vec2(case, "target")?)?,
    };
    let init: Vec<F> = layer_params(case, "init_params")?
        .into_iter()
        .map(F::of)
        .collect();
    let params = Params::from_values(model.layout(), init).map_err(|e| e.to_string())?;
    let spec = optimizer_spec(case)?;
    let lr = spec.lr().map_err(|e| e.to_string())?;
    let optimizer = spec
        .build::<F>(vec![(0..params.len(), Default::default())])
        .map_err(|e| e.to_string())?;
    let config = TrainConfig::new(
        uint(case, "epochs")?,
        BatchSize::Full,
        BatchOrder::Sequential,
    );
    let mut trainer = Trainer::new(
        &model,
        loss,
        config,
        params,
        optimizer,
        Box::new(Constant { lr }),
    )
    .map_err(|e| e.to_string())?;
    let (mut losses, mut first) = (Vec::new(), None);
    let mut watch = EveryStep(|e: &Event<'_, F>| {
        if let Event::Step(r, p) = e {
            losses.push(r.loss);
            if first.is_none() {
                first = Some(p.iter().map(|x| x.f64()).collect::<Vec<f64>>());
            }
        }
        Ok(Signal::Continue)
    });
    trainer
        .run(&data, None, &mut [&mut watch as &mut dyn Observer<F>])
        .map_err(|e| e.to_string())?;
    tol.check("loss", &losses, &vec1(case, "loss")?)?;
    let first = first.ok_or("no step was taken")?;
    tol.check(
        "params_after_first_step",
        &first,
        &layer_params(case, "params_after_first_step")?,
    )?;
    let fin: Vec<f64> = trainer.params.values.iter().map(|x| x.f64()).collect();
    tol.check("final_params", &fin, &layer_params(case, "final_params")?)?;
    let final_loss = evaluate(&model, loss, &trainer.params, data.x.view(), data.y.view())
        .map_err(|e| e.to_string())?;
    tol.check_one("final_loss", final_loss, num(case, "final_loss")?)
}
