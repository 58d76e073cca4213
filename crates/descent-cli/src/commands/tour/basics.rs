//! Lessons 1–6: brute force, then batch, stochastic and mini-batch gradient descent, a
//! learning rate that is too large, and learning-rate decay.

use anyhow::{Context, Result};
use descent::analysis::{grid_search_1d, lr_bound, PowerIteration, Range};
use descent::optim::OptimizerSpec;
use descent::schedule::ScheduleSpec;
use descent::train::{Event, Signal};
use ndarray::array;

use super::Tour;
use crate::plot::{save_gif, LineChart, Marker, ScatterFit, Series};
use crate::prep::{train_config, Prepared, Run};
use clap::ValueEnum;

use descent::nn::Activation;

use crate::args::ModelName;
use crate::viz_args::{DataArgs, ModelArgs, ProbeArgs};

pub fn run(tour: &mut Tour) -> Result<()> {
    brute_force(tour)?;
    batch(tour)?;
    stochastic(tour)?;
    mini_batch(tour)?;
    too_large(tour)?;
    decay(tour)?;
    Ok(())
}

/// A built-in data set with a model, as the command line would prepare it.
pub fn builtin(data: &str, model: &str, init: Option<&str>, scale: &str) -> Result<Prepared> {
    with_features(data, model, init, scale, None)
}

pub fn with_features(
    data: &str,
    model: &str,
    init: Option<&str>,
    scale: &str,
    features: Option<Vec<String>>,
) -> Result<Prepared> {
    Prepared::new(&ProbeArgs {
        data: DataArgs {
            data: Some(format!("builtin:{data}")),
            target: None,
            features,
            drop_missing: false,
            delimiter: None,
            one_hot: None,
            max_categories: None,
            stream: false,
            memory_budget: None,
            shuffle_buffer: None,
        },
        model: ModelArgs {
            model: ModelName::from_str(model, false).map_err(anyhow::Error::msg)?,
            hidden: Vec::new(),
            activation: Activation::Relu,
            loss: None,
            scale: scale.parse()?,
            init: init.map(str::to_string),
            seed: 0,
        },
    })
}

pub fn sgd(lr: f64) -> OptimizerSpec {
    OptimizerSpec::new("sgd").with("lr", lr)
}

/// Loss per epoch as a series.
pub fn losses(name: &str, run: &Run) -> Series {
    Series {
        name: name.into(),
        points: run.losses.iter().map(|&(k, l)| (k as f64, l)).collect(),
    }
}

fn brute_force(tour: &mut Tour) -> Result<()> {
    tour.lesson("Brute force: try every w");
    let prep = builtin("classic", "linear-nobias", None, "none")?;
    let range = Range::inclusive(0.0, 4.0, 0.1)?;
    let grid = grid_search_1d(&range, |p| prep.loss_at(p).unwrap_or(f64::NAN))?;
    let best = grid.best.clone().context("the grid has a finite loss")?;
    tour.say("The data are three points, x = 1, 2, 3 and y = 2, 4, 6; the model is y = w·x and the loss the mean squared error.");
    tour.say(format!(
        "Trying every w from 0 to 4 in steps of 0.1 costs {} loss evaluations; the best is w = {} with loss {}.",
        grid.evaluations, best.point[0], best.loss
    ));
    tour.say("That works for one parameter; with ten parameters and the same resolution it would take 41^10 ≈ 10^16 evaluations. Gradient descent follows the slope instead.");
    let chart = LineChart {
        title: "brute force: loss over w (classic data)",
        x_label: "w",
        y_label: "mse loss",
        series: vec![Series {
            name: "loss(w)".into(),
            points: grid.axes[0]
                .iter()
                .copied()
                .zip(grid.losses.iter().copied())
                .collect(),
        }],
        markers: vec![Marker {
            name: format!("best of {} evaluations", grid.evaluations),
            points: vec![(best.point[0], best.loss)],
        }],
        ..LineChart::default()
    };
    tour.figure(&chart, "search")
}

fn batch(tour: &mut Tour) -> Result<()> {
    tour.lesson("Batch gradient descent on y = w·x");
    let prep = builtin("classic", "linear-nobias", Some("1.0"), "none")?;
    let run = prep.train_with(&sgd(0.01), &train_config(100, "full", 0)?)?;
    let params = descent::params::Params::from_values(
        prep.model.layout(),
        run.path.last().context("a run has a path")?.clone(),
    )?;
    let prediction = prep.model.predict(&params, array![[4.0]].view())?[[0, 0]];
    tour.say("Start from w = 1 and repeat w ← w − 0.01 · dL/dw, with the gradient over all three points (batch gradient descent), 100 times.");
    tour.say(format!(
        "After 100 epochs w = {} and the loss is {:.3e}.",
        params.values[0], run.final_loss
    ));
    tour.say(format!("prediction at x = 4: {prediction}"));
    tour.say("The prediction goes to 8 = 2·4 but never quite gets there: every step removes the same fraction (9.3%) of the remaining error.");
    let chart = LineChart {
        title: "batch gradient descent: loss per epoch",
        x_label: "epoch",
        y_label: "mse loss (log scale)",
        series: vec![losses("sgd (lr 0.01)", &run)],
        log_y: true,
        ..LineChart::default()
    };
    tour.figure(&chart, "loss")?;
    let chart = LineChart {
        title: "the prediction at x = 4 goes to 8",
        x_label: "epoch",
        y_label: "prediction w·4",
        series: vec![Series {
            name: "sgd (lr 0.01)".into(),
            points: run
                .path
                .iter()
                .enumerate()
                .map(|(k, p)| (k as f64, 4.0 * p[0]))
                .collect(),
        }],
        ..LineChart::default()
    };
    tour.figure(&chart, "prediction")
}

/// An animation of the fitted line `y = w x + b` settling onto the points, one frame per
/// recorded epoch (at most 24).
fn fit_gif(tour: &mut Tour, prep: &Prepared, run: &Run, stem: &str, what: &str) -> Result<()> {
    let points: Vec<(f64, f64)> = prep
        .data
        .x
        .column(0)
        .iter()
        .copied()
        .zip(prep.data.y.column(0).iter().copied())
        .collect();
    let range = ScatterFit::data_range(&points);
    let every = run.path.len().div_ceil(24).max(1);
    let titles: Vec<String> = (0..run.path.len())
        .step_by(every)
        .map(|k| format!("{what}: epoch {k}"))
        .collect();
    let frames: Vec<ScatterFit> = (0..run.path.len())
        .step_by(every)
        .zip(&titles)
        .map(|(k, title)| {
            let (w, b) = (run.path[k][0], run.path[k][1]);
            let xs = [range.0 .0, range.0 .1];
            ScatterFit {
                title,
                x_label: "bean size",
                y_label: "toxicity",
                points: points.clone(),
                fits: vec![Series {
                    name: format!("y = {w:.3}·x + {b:.3}"),
                    points: (0..=50)
                        .map(|i| xs[0] + (xs[1] - xs[0]) * i as f64 / 50.0)
                        .map(|x| (x, w * x + b))
                        .collect(),
                }],
                range: Some(range),
            }
        })
        .collect();
    let path = tour.animation(stem);
    save_gif(&path, &frames, 150)?;
    tour.figure(frames.last().context("at least one frame")?, stem)
}

fn stochastic(tour: &mut Tour) -> Result<()> {
    tour.lesson("Stochastic gradient descent on the beans");
    let prep = builtin("beans", "linear", None, "none")?;
    let run = prep.train_with(&sgd(0.01), &train_config(20, "1", 0)?)?;
    let end = run.path.last().context("a run has a path")?;
    tour.say(format!(
        "{} beans, size → toxicity. Stochastic gradient descent updates w and b after every single bean (rows shuffled each epoch, seed 0): {} updates in 20 epochs.",
        prep.data.n_rows(),
        20 * prep.data.n_rows()
    ));
    tour.say(format!(
        "The line ends at toxicity = {:.4}·size + {:.4} (the data were made with slope 1.2), loss {:.3e}.",
        end[0], end[1], run.final_loss
    ));
    tour.say("Each update sees one bean, so the loss wobbles; the animation shows the line settling onto the points.");
    fit_gif(tour, &prep, &run, "fit", "stochastic gradient descent")?;
    let chart = LineChart {
        title: "stochastic gradient descent: loss per epoch",
        x_label: "epoch",
        y_label: "mse loss (mean over the epoch's updates)",
        series: vec![losses("sgd, batch 1 (lr 0.01)", &run)],
        log_y: true,
        ..LineChart::default()
    };
    tour.figure(&chart, "loss")
}

fn mini_batch(tour: &mut Tour) -> Result<()> {
    tour.lesson("Mini-batch gradient descent");
    let prep = builtin("beans", "linear", None, "none")?;
    let mut series = Vec::new();
    let mut mini = None;
    for (batch, name) in [("1", "batch 1"), ("10", "batch 10"), ("full", "full batch")] {
        let run = prep.train_with(&sgd(0.05), &train_config(40, batch, 0)?)?;
        let updates = run.losses.len()
            * match batch {
                "full" => 1,
                b => prep.data.n_rows().div_ceil(b.parse::<usize>()?),
            };
        tour.say(format!(
            "{name}: {updates} updates in 40 epochs, final loss {:.4e}.",
            run.final_loss
        ));
        series.push(losses(&format!("{name} (lr 0.05)"), &run));
        if batch == "10" {
            mini = Some(run);
        }
    }
    tour.say("Mini-batches of 10 beans average away most of the noise of single beans and still update ten times per epoch: the usual compromise.");
    let run = mini.context("the batch-10 run")?;
    fit_gif(tour, &prep, &run, "fit", "mini-batch gradient descent")?;
    let chart = LineChart {
        title: "batch size: loss per epoch on the beans",
        x_label: "epoch",
        y_label: "mse loss (log scale)",
        series,
        log_y: true,
        ..LineChart::default()
    };
    tour.figure(&chart, "loss")
}

fn too_large(tour: &mut Tour) -> Result<()> {
    tour.lesson("A learning rate that is too large");
    let prep = builtin("classic", "linear-nobias", Some("1.0"), "none")?;
    let bound = lr_bound(prep.data.x.view(), false, &PowerIteration::default())?;
    tour.say(format!(
        "For least squares the loss is a bowl with curvature λ_max = {:.4}; gradient descent converges only for lr < 2/λ_max = {:.4}.",
        bound.lambda_max, bound.lr_max_stable
    ));
    let mut series = Vec::new();
    for lr in [0.1, 0.2, 0.25] {
        let mut rises = 0;
        let mut last = f64::INFINITY;
        let mut stop = |e: &Event<'_, f64>| -> descent::Result<Signal> {
            if let Event::Epoch(r, _) = e {
                rises = if r.loss > last { rises + 1 } else { 0 };
                last = r.loss;
                if rises >= 5 {
                    return Ok(Signal::Stop(format!(
                        "the loss rose 5 epochs in a row (epoch {})",
                        r.epoch
                    )));
                }
            }
            Ok(Signal::Continue)
        };
        let run = prep.train_observed(
            &sgd(lr),
            None,
            &train_config(100, "full", 0)?,
            &mut [&mut stop],
        )?;
        let factor = (1.0 - lr * bound.lambda_max).abs();
        tour.say(match &run.stopped {
            Some(reason) => format!(
                "lr {lr}: stopped, {reason}: each step multiplies the error by |1 − lr·λ_max| = {factor:.3} > 1."
            ),
            None => format!(
                "lr {lr}: converges (error × {factor:.3} per step), final loss {:.3e}.",
                run.final_loss
            ),
        });
        // Below 1e-16 the loss is rounding noise (and exactly 0 leaves a log axis).
        let mut line = losses(&format!("lr {lr}"), &run);
        line.points.retain(|p| p.1 > 1e-16);
        series.push(line);
    }
    let chart = LineChart {
        title: &format!(
            "learning rate against the bound 2/λ_max = {:.4}",
            bound.lr_max_stable
        ),
        x_label: "epoch",
        y_label: "mse loss (log scale)",
        series,
        log_y: true,
        ..LineChart::default()
    };
    tour.figure(&chart, "loss")
}

fn decay(tour: &mut Tour) -> Result<()> {
    tour.lesson("Learning-rate decay");
    let prep = builtin("beans", "linear", None, "none")?;
    let config = train_config(30, "1", 0)?;
    let constant = prep.train_with(&sgd(0.1), &config)?;
    let schedule = ScheduleSpec::parse("exponential:gamma=0.85")?;
    let decayed = prep.train_observed(&sgd(0.1), Some(&schedule), &config, &mut [])?;
    tour.say(format!(
        "Stochastic gradient descent with a constant lr 0.1 keeps jumping around the minimum: final loss {:.4e}.",
        constant.final_loss
    ));
    tour.say(format!(
        "Shrinking the lr by 15% every epoch (exponential decay, lr 0.1 → {:.2e}) lets it settle: final loss {:.4e}.",
        decayed.lrs.last().copied().unwrap_or(0.1),
        decayed.final_loss
    ));
    let chart = LineChart {
        title: "constant against decaying learning rate (beans, batch 1)",
        x_label: "epoch",
        y_label: "mse loss (log scale)",
        series: vec![
            losses("constant lr 0.1", &constant),
            losses("exponential decay 0.85", &decayed),
        ],
        log_y: true,
        ..LineChart::default()
    };
    tour.figure(&chart, "loss")?;
    let lr_series = |name: &str, r: &Run| Series {
        name: name.into(),
        points: r
            .lrs
            .iter()
            .enumerate()
            .map(|(k, &lr)| (k as f64 + 1.0, lr))
            .collect(),
    };
    let chart = LineChart {
        title: "learning rate per epoch",
        x_label: "epoch",
        y_label: "learning rate (log scale)",
        series: vec![
            lr_series("constant lr 0.1", &constant),
            lr_series("exponential decay 0.85", &decayed),
        ],
        log_y: true,
        ..LineChart::default()
    };
    tour.figure(&chart, "lr")
}
