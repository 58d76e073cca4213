//! Lessons 1–6: brute force, then batch, stochastic and mini-batch gradient descent, a
//! learning rate that is too large, and learning-rate decay.

use anyhow::{Context, Result};
use descent::analysis::{grid_search_1d, lr_bound, PowerIteration, Range};
use descent::optim::OptimizerSpec;
use descent::schedule::ScheduleSpec;
use descent::train::{Event, EveryStep, Signal};
use ndarray::array;

use super::Tour;
use crate::plot::{save_gif, LineChart, Marker, ScatterFit, Series};
use crate::prep::{train_config, Prepared, Run};
use clap::ValueEnum;

use descent::nn::Activation;

use crate::args::ModelName;
use crate::viz_args::{DataArgs, ModelArgs, ProbeArgs};

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
            chunk_rows: None,
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

/// The same training as `train_observed`, also keeping the loss of every update's batch
/// (before the update), as (update / updates per epoch, loss): per-update losses on an
/// epoch axis.
pub fn train_steps(
    prep: &Prepared,
    spec: &OptimizerSpec,
    schedule: Option<&ScheduleSpec>,
    config: &descent::train::TrainConfig,
) -> Result<(Run, Vec<(f64, f64)>)> {
    let mut steps = Vec::new();
    let mut per_epoch = 1usize;
    let mut watch = EveryStep(|e: &Event<'_, f64>| -> descent::Result<Signal> {
        match e {
            Event::Start(s) => per_epoch = s.steps_per_epoch.max(1),
            Event::Step(r, _) => steps.push((r.step as f64 / per_epoch as f64, r.loss)),
            _ => {}
        }
        Ok(Signal::Continue)
    });
    let run = prep.train_observed(spec, schedule, config, &mut [&mut watch])?;
    Ok((run, steps))
}

/// Loss per epoch as a series.
pub fn losses(name: &str, run: &Run) -> Series {
    Series {
        name: name.into(),
        points: run.losses.iter().map(|&(k, l)| (k as f64, l)).collect(),
    }
}

pub fn brute_force(tour: &mut Tour) -> Result<()> {
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
    tour.command("descent search --data builtin:classic --model linear-nobias --range 0:4:0.1");
    tour.caption("The loss at every w tried, and the best of them.");
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

pub fn batch(tour: &mut Tour) -> Result<()> {
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
    tour.command("descent train --data builtin:classic --model linear-nobias --init 1.0 --lr 0.01 --epochs 100 --batch full --plot");
    tour.caption("The loss per epoch of batch gradient descent on the classic data: a straight line on the log axis, the same fraction removed every step.");
    tour.figure(&chart, "loss")?;
    tour.caption("The prediction at x = 4 per epoch, closing in on 8.");
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
                    points: xs.iter().map(|&x| (x, w * x + b)).collect(),
                }],
                range: Some(range),
            }
        })
        .collect();
    let path = tour.animation(stem);
    save_gif(&path, &frames, 150)?;
    tour.figure(frames.last().context("at least one frame")?, stem)
}

pub fn stochastic(tour: &mut Tour) -> Result<()> {
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
    tour.say("Each update sees one bean, so the loss of the update's bean jumps up and down from update to update (thin line); its mean over each epoch (thick line) falls smoothly. The animation shows the line settling onto the points.");
    tour.command(
        "descent train --data builtin:beans --model linear --lr 0.01 --epochs 20 --batch 1 --plot",
    );
    tour.caption("The fitted line after each epoch of stochastic gradient descent (the epoch is in the title).");
    fit_gif(tour, &prep, &run, "fit", "stochastic gradient descent")?;
    let (_, steps) = train_steps(&prep, &sgd(0.01), None, &train_config(20, "1", 0)?)?;
    let mut mean = losses("mean over each epoch", &run);
    mean.points.iter_mut().for_each(|p| p.0 -= 0.5);
    let chart = LineChart {
        title: "stochastic gradient descent: the loss of every update",
        x_label: "epoch",
        y_label: "mse loss",
        series: vec![
            Series {
                name: "loss of the update's bean".into(),
                points: steps,
            },
            mean,
        ],
        log_y: true,
        thin_first: true,
        ..LineChart::default()
    };
    tour.caption("Per-update losses of stochastic gradient descent (batch 1) on the beans, and their mean per epoch.");
    tour.figure(&chart, "loss")
}

pub fn mini_batch(tour: &mut Tour) -> Result<()> {
    tour.lesson("Mini-batch gradient descent");
    let prep = builtin("beans", "linear", None, "none")?;
    let mut series = Vec::new();
    let mut runs = Vec::new();
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
        let (_, steps) = train_steps(&prep, &sgd(0.05), None, &train_config(40, batch, 0)?)?;
        series.push(Series {
            name: format!("{name} (lr 0.05)"),
            points: steps,
        });
        runs.push((name, run));
    }
    tour.command(
        "descent train --data builtin:beans --model linear --lr 0.05 --epochs 40 --batch 10 --plot",
    );
    tour.say("Mini-batches of 10 beans average away most of the noise of single beans and still update ten times per epoch: the usual compromise. The figure shows the loss of every update's batch: single beans jump over two orders of magnitude, batches of 10 much less, the full batch not at all.");
    tour.caption("The loss of each update's batch against the epoch, for batches of 1, of 10 and of all the beans (lr 0.05, the same shuffling).");
    let chart = LineChart {
        title: "batch size: the loss of every update on the beans",
        x_label: "epoch",
        y_label: "mse loss of the update's batch",
        series,
        log_y: true,
        ..LineChart::default()
    };
    tour.figure(&chart, "loss")?;
    compare_gif(tour, &prep, &runs)
}

/// The fitted lines of several runs in one animation, one frame per epoch (at most 24).
fn compare_gif(tour: &mut Tour, prep: &Prepared, runs: &[(&str, Run)]) -> Result<()> {
    let points: Vec<(f64, f64)> = prep
        .data
        .x
        .column(0)
        .iter()
        .copied()
        .zip(prep.data.y.column(0).iter().copied())
        .collect();
    let range = ScatterFit::data_range(&points);
    let len = runs.iter().map(|r| r.1.path.len()).min().unwrap_or(1);
    let every = len.div_ceil(24).max(1);
    let mut picks: Vec<usize> = (0..len).step_by(every).collect();
    if picks.last() != Some(&(len - 1)) {
        picks.push(len - 1);
    }
    let titles: Vec<String> = picks
        .iter()
        .map(|k| format!("batch sizes: epoch {k}"))
        .collect();
    let xs = [range.0 .0, range.0 .1];
    let frames: Vec<ScatterFit> = picks
        .iter()
        .zip(&titles)
        .map(|(&k, title)| ScatterFit {
            title,
            x_label: "bean size",
            y_label: "toxicity",
            points: points.clone(),
            fits: runs
                .iter()
                .map(|(name, r)| {
                    let (w, b) = (r.path[k][0], r.path[k][1]);
                    Series {
                        name: format!("{name}: y = {w:.3}·x + {b:.3}"),
                        points: xs.iter().map(|&x| (x, w * x + b)).collect(),
                    }
                })
                .collect(),
            range: Some(range),
        })
        .collect();
    let path = tour.animation("fit");
    save_gif(&path, &frames, 200)?;
    tour.caption("The line of each batch size after each epoch: single beans move it most per epoch, the full batch least.");
    tour.figure(frames.last().context("at least one frame")?, "fit")
}

pub fn too_large(tour: &mut Tour) -> Result<()> {
    tour.lesson("A learning rate that is too large");
    let prep = builtin("classic", "linear-nobias", Some("1.0"), "none")?;
    let bound = lr_bound(prep.data.x.view(), false, &PowerIteration::default())?;
    tour.say(format!(
        "For least squares the loss is a bowl with curvature λmax = {:.4}; gradient descent converges only for lr < 2/λmax = {:.4}.",
        bound.lambda_max, bound.lr_max_stable
    ));
    tour.command("descent lr-find --data builtin:classic --model linear-nobias");
    let mut series = Vec::new();
    let mut ws = Vec::new();
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
                "lr {lr}: stopped, {reason}: each step multiplies the error by |1 − lr·λmax| = {factor:.3} > 1."
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
        ws.push(Series {
            name: format!("lr {lr}"),
            points: run
                .path
                .iter()
                .enumerate()
                .take(16)
                .map(|(k, p)| (k as f64, p[0]))
                .collect(),
        });
    }
    tour.say("The second figure follows w itself: below the bound it closes in on w = 2 from one side (lr 0.1) or bounces across it with shrinking swings (lr 0.2, past 1/λmax); above the bound every bounce lands farther away.");
    let title = format!(
        "learning rate against the bound 2/λₘₐₓ = {:.4}",
        bound.lr_max_stable
    );
    let chart = LineChart {
        title: &title,
        x_label: "epoch",
        y_label: "mse loss (log scale)",
        series,
        log_y: true,
        ..LineChart::default()
    };
    tour.caption("The loss per epoch for three learning rates; lr 0.25 is above the stable bound and stops once its loss has risen 5 epochs in a row.");
    tour.figure(&chart, "loss")?;
    let chart = LineChart {
        title: "w per epoch: the minimum is w = 2",
        x_label: "epoch",
        y_label: "w",
        series: ws,
        hline: Some(2.0),
        ..LineChart::default()
    };
    tour.caption("The parameter w for the first 15 epochs: lr 0.2 overshoots w = 2 and swings back with shrinking steps; lr 0.25 overshoots farther each time.");
    tour.figure(&chart, "w")
}

pub fn decay(tour: &mut Tour) -> Result<()> {
    tour.lesson("Learning-rate decay");
    let prep = builtin("beans", "linear", None, "none")?;
    let config = train_config(30, "1", 0)?;
    let constant = prep.train_with(&sgd(0.1), &config)?;
    let schedule = ScheduleSpec::parse("exponential:gamma=0.85")?;
    let decayed = prep.train_observed(&sgd(0.1), Some(&schedule), &config, &mut [])?;
    let inv_sqrt = ScheduleSpec::parse("inv-sqrt")?;
    let slow = prep.train_observed(&sgd(0.1), Some(&inv_sqrt), &config, &mut [])?;
    tour.say(format!(
        "Stochastic gradient descent with a constant lr 0.1 keeps jumping around the minimum: final loss {:.4e}.",
        constant.final_loss
    ));
    tour.say(format!(
        "Shrinking the lr by 15% every epoch (exponential decay, lr 0.1 → {:.2e}) lets it settle: final loss {:.4e}.",
        decayed.lrs.last().copied().unwrap_or(0.1),
        decayed.final_loss
    ));
    tour.say(format!(
        "The classic η/√(t+1) decay (t the epoch, from 0) shrinks the lr slowly, to {:.2e} after 30 epochs: final loss {:.4e}. Its steps still add up to infinity (so it can reach any minimum) while their squares shrink, the condition under which stochastic gradient descent converges.",
        slow.lrs.last().copied().unwrap_or(0.1),
        slow.final_loss
    ));
    tour.command("descent train --data builtin:beans --model linear --batch 1 --epochs 30 --lr 0.1 --schedule inv-sqrt --plot");
    let chart = LineChart {
        title: "constant against decaying learning rates (beans, batch 1)",
        x_label: "epoch",
        y_label: "mse loss (log scale)",
        series: vec![
            losses("constant lr 0.1", &constant),
            losses("exponential decay 0.85", &decayed),
            losses("η/√(t+1) decay", &slow),
        ],
        log_y: true,
        ..LineChart::default()
    };
    tour.caption(
        "The loss per epoch (mean over the epoch's 100 updates) with a constant lr and two decays.",
    );
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
            lr_series("η/√(t+1) decay", &slow),
        ],
        log_y: true,
        ..LineChart::default()
    };
    tour.caption("The learning rate each schedule gives per epoch.");
    tour.figure(&chart, "lr")
}
