//! Family `seed_linear`: the classic `y = w*x` lesson (batch GD, per-sample SGD, grid search),
//! run through the real model, loss and trainer.

use descent::data::{BatchOrder, BatchSize};
use descent::loss::Loss;
use descent::nn::{ModelKind, Sequential};
use descent::params::{Init, Params};
use descent::schedule::Constant;
use descent::train::{
    evaluate, Event, EveryStep, Observer, Signal, TrainConfig, TrainData, Trainer,
};
use ndarray::Array2;
use serde_json::Value;

use super::common::{num, string, uint, vec1, Tolerance};

pub fn run(case: &Value) -> Result<(), String> {
    let tol = Tolerance::of(case)?;
    let (x, y) = (vec1(case, "x")?, vec1(case, "y")?);
    let data = TrainData {
        x: Array2::from_shape_vec((x.len(), 1), x.clone()).map_err(|e| e.to_string())?,
        y: Array2::from_shape_vec((y.len(), 1), y.clone()).map_err(|e| e.to_string())?,
    };
    let model = ModelKind::LinearNobias
        .build(1, 1)
        .map_err(|e| e.to_string())?;
    match string(case, "method")? {
        "batch_gd" => gd(case, &tol, &model, &data, BatchSize::Full),
        "sgd" => gd(case, &tol, &model, &data, BatchSize::Rows(1)),
        "grid" => grid(case, &tol, &model, &data),
        other => Err(format!("unknown method `{other}`")),
    }
}

fn params_at(model: &Sequential, w: f64) -> Params<f64> {
    Params::init(model.layout(), &Init::Constant(w)).expect("finite w")
}

fn gd(
    case: &Value,
    tol: &Tolerance,
    model: &Sequential,
    data: &TrainData<f64>,
    batch: BatchSize,
) -> Result<(), String> {
    let (w0, lr, epochs) = (num(case, "w0")?, num(case, "lr")?, uint(case, "epochs")?);
    let config = TrainConfig::new(epochs, batch, BatchOrder::Sequential);
    let optimizer = descent::optim::OptimizerSpec::new("sgd")
        .with("lr", lr)
        .build::<f64>(vec![(0..1, Default::default())])
        .map_err(|e| e.to_string())?;
    let mut trainer = Trainer::new(
        model,
        Loss::Mse,
        config,
        params_at(model, w0),
        optimizer,
        Box::new(Constant { lr }),
    )
    .map_err(|e| e.to_string())?;
    let (mut w_epoch, mut w_update, mut cost) = (vec![w0], vec![w0], Vec::new());
    let mut watch = EveryStep(|e: &Event<'_, f64>| {
        match e {
            Event::Step(_, p) => w_update.push(p[0]),
            Event::Epoch(r, p) => {
                w_epoch.push(p[0]);
                cost.push(r.loss);
            }
            _ => {}
        }
        Ok(Signal::Continue)
    });
    trainer
        .run(data, None, &mut [&mut watch as &mut dyn Observer<f64>])
        .map_err(|e| e.to_string())?;
    let eval = |w: f64, x: &[f64], y: &[f64]| {
        let x = Array2::from_shape_vec((x.len(), 1), x.to_vec()).unwrap();
        let y = Array2::from_shape_vec((y.len(), 1), y.to_vec()).unwrap();
        evaluate(model, Loss::Mse, &params_at(model, w), x.view(), y.view()).unwrap()
    };
    let (xs, ys) = (data.x.as_slice().unwrap(), data.y.as_slice().unwrap());
    let w_final = *w_epoch.last().unwrap();
    tol.check("w", &w_epoch, &vec1(case, "w")?)?;
    if batch == BatchSize::Full {
        tol.check("cost", &cost, &vec1(case, "cost")?)?;
        tol.check_one(
            "final_cost",
            eval(w_final, xs, ys),
            num(case, "final_cost")?,
        )?;
    } else {
        tol.check("w_per_update", &w_update, &vec1(case, "w_per_update")?)?;
        // The classic script prints the squared error of the last sample after its update.
        let n = xs.len();
        let loss: Vec<f64> = w_epoch[1..]
            .iter()
            .map(|&w| eval(w, &xs[n - 1..], &ys[n - 1..]))
            .collect();
        tol.check("loss", &loss, &vec1(case, "loss")?)?;
    }
    let px = num(case, "predict_x")?;
    let predict = |w: f64| {
        let p = params_at(model, w);
        model
            .predict(&p, Array2::from_elem((1, 1), px).view())
            .unwrap()[[0, 0]]
    };
    tol.check_one("predict_before", predict(w0), num(case, "predict_before")?)?;
    tol.check_one(
        "predict_after",
        predict(w_final),
        num(case, "predict_after")?,
    )
}

fn grid(
    case: &Value,
    tol: &Tolerance,
    model: &Sequential,
    data: &TrainData<f64>,
) -> Result<(), String> {
    let w_grid = vec1(case, "w_grid")?;
    let ours: Vec<f64> = (0..w_grid.len()).map(|i| i as f64 * 0.1).collect();
    tol.check("w_grid", &ours, &w_grid)?;
    let mse: Vec<f64> = ours
        .iter()
        .map(|&w| {
            evaluate(
                model,
                Loss::Mse,
                &params_at(model, w),
                data.x.view(),
                data.y.view(),
            )
        })
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    tol.check("mse", &mse, &vec1(case, "mse")?)?;
    let best = (0..mse.len()).fold(0, |b, i| if mse[i] < mse[b] { i } else { b });
    tol.check_one("best_w", ours[best], num(case, "best_w")?)?;
    tol.check_one("best_mse", mse[best], num(case, "best_mse")?)
}
