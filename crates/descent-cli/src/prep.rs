//! Shared preparation for the commands that train or probe a model on data (`compare`,
//! `search`, `gradcheck`, `lr-find`, `tour`): read the data, check that the loss fits the
//! model, fit the scaler, build the model and its initial parameters, in f64.
//!
//! `train` builds a library `Run` from a `RunSpec` instead; these commands train many short
//! runs from one prepared data set.

use std::time::Instant;

use anyhow::{ensure, Context, Result};
use descent::data::{BatchOrder, BatchSize, Dataset, Scaler};
use descent::loss::Loss;
use descent::nn::{ModelKind, Sequential};
use descent::optim::{GroupOptions, OptimizerSpec};
use descent::params::{Init, Params};
use descent::schedule::{Constant, ScheduleSpec, Scheduler};
use descent::train::{evaluate, History, Observer, Stop, TrainConfig, TrainData, Trainer};

use crate::flags::with_flags;
use crate::viz_args::ProbeArgs;

/// Data, model and initial parameters, ready to train or probe.
pub struct Prepared {
    /// Where the data came from, for titles and messages.
    pub name: String,
    pub kind: ModelKind,
    pub loss: Loss,
    /// The data after scaling.
    pub data: Dataset,
    pub model: Sequential,
    pub init: Init,
}

impl Prepared {
    /// Reads and scales the data and builds the model named in `a`.
    pub fn new(a: &ProbeArgs) -> Result<Self> {
        let m = &a.model;
        let kind = m.kind()?;
        if let Some(loss) = m.loss {
            check_loss_fits_model(&kind, loss)?;
        }
        let init = match m.init()? {
            Some(init) => init,
            None if matches!(kind, ModelKind::Mlp { .. }) => Init::Torch { seed: m.seed },
            None => Init::Zeros,
        };
        let spec = a.data.spec()?;
        let mut data = descent::run::load_data::<f64>(&spec, &kind, m.loss).map_err(with_flags)?;
        // An mlp without a loss follows its labels (classes when they are text).
        let loss = m
            .loss
            .unwrap_or_else(|| kind.default_loss(data.n_classes()));
        descent::run::check_labels(&spec.source.describe(), &data, loss).map_err(with_flags)?;
        let scaler = Scaler::fit(m.scale, &data.x);
        scaler.transform(&mut data.x)?;
        let model = kind.build(data.n_features(), n_outputs(loss, &data))?;
        Ok(Prepared {
            name: spec.source.describe(),
            kind,
            loss,
            data,
            model,
            init,
        })
    }

    /// A model over data already in memory (the tour's synthetic sets), unscaled.
    pub fn from_dataset(
        name: &str,
        data: Dataset,
        kind: ModelKind,
        loss: Loss,
        init: Init,
    ) -> Result<Self> {
        check_loss_fits_model(&kind, loss)?;
        let model = kind.build(data.n_features(), n_outputs(loss, &data))?;
        Ok(Prepared {
            name: name.to_string(),
            kind,
            loss,
            data,
            model,
            init,
        })
    }

    /// Fresh initial parameters (the same every call).
    pub fn params(&self) -> Result<Params<f64>> {
        Ok(Params::init(self.model.layout(), &self.init)?)
    }

    pub fn train_data(&self) -> TrainData<f64> {
        TrainData::from_dataset(&self.data)
    }

    /// The loss over all rows at the parameter values `values`.
    pub fn loss_at(&self, values: &[f64]) -> Result<f64> {
        let p = Params::from_values(self.model.layout(), values.to_vec())?;
        Ok(evaluate(
            &self.model,
            self.loss,
            &p,
            self.data.x.view(),
            self.data.y.view(),
        )?)
    }

    /// Whether the model is least squares (a linear model under MSE), where the normal
    /// equation and the stable learning-rate bound apply.
    pub fn is_least_squares(&self) -> bool {
        matches!(self.kind, ModelKind::Linear | ModelKind::LinearNobias) && self.loss == Loss::Mse
    }

    pub fn has_bias(&self) -> bool {
        self.kind != ModelKind::LinearNobias
    }
}

pub use descent::params::scalar_names;
pub use descent::run::n_outputs;

/// Whether `loss` fits `kind`, in the command line's words.
pub fn check_loss_fits_model(kind: &ModelKind, loss: Loss) -> Result<()> {
    descent::run::check_loss_fits_model(kind, loss)
        .with_context(|| format!("--loss {loss} does not fit --model {}", kind.name()))
}

/// One training run recorded for a figure: the loss and parameters after every epoch.
#[derive(Clone, Debug)]
pub struct Run {
    /// `(epoch, loss)`, the epoch's mean batch loss as in `metrics.csv` (epochs from 1).
    pub losses: Vec<(usize, f64)>,
    /// The parameters at the start and after every epoch.
    pub path: Vec<Vec<f64>>,
    /// The learning rate of every epoch.
    pub lrs: Vec<f64>,
    /// Why an observer stopped the run, if one did.
    pub stopped: Option<String>,
    /// The loss over all rows at the final parameters.
    pub final_loss: f64,
    /// The epoch at which the loss became NaN or infinite, if it did.
    pub diverged_at: Option<usize>,
    pub seconds: f64,
}

impl Prepared {
    /// Trains from the initial parameters with `spec` (constant learning rate) under `config`.
    pub fn train_with(&self, spec: &OptimizerSpec, config: &TrainConfig) -> Result<Run> {
        self.train_observed(spec, None, config, &mut [])
    }

    /// Trains with an optional schedule (stepped per epoch) and extra observers.
    pub fn train_observed(
        &self,
        spec: &OptimizerSpec,
        schedule: Option<&ScheduleSpec>,
        config: &TrainConfig,
        extra: &mut [&mut dyn Observer<f64>],
    ) -> Result<Run> {
        let started = Instant::now();
        let params = self.params()?;
        let optimizer = spec.build::<f64>(vec![(0..params.len(), GroupOptions::default())])?;
        let lr = spec.lr()?;
        let mut history = History::with_path(params.values.clone());
        let schedule: Box<dyn Scheduler> = match schedule {
            Some(s) => s.build(lr, optimizer.momentum(), config.epochs)?,
            None => Box::new(Constant { lr }),
        };
        let mut trainer = Trainer::new(
            &self.model,
            self.loss,
            config.clone(),
            params,
            optimizer,
            schedule,
        )?;
        let data = self.train_data();
        let mut observers: Vec<&mut dyn Observer<f64>> = vec![&mut history];
        for o in extra.iter_mut() {
            observers.push(&mut **o);
        }
        let outcome = trainer.run(&data, None, &mut observers)?;
        let (diverged_at, stopped) = match outcome.stop {
            Stop::Diverged { epoch, .. } => (Some(epoch), None),
            Stop::Stopped { reason } => (None, Some(reason)),
            Stop::EarlyStopped { best_epoch, .. } => (
                None,
                Some(format!("early-stopped at best epoch {best_epoch}")),
            ),
            Stop::Completed => (None, None),
        };
        let final_loss = self.loss_at(&trainer.params.values)?;
        Ok(Run {
            losses: history.records.iter().map(|r| (r.epoch, r.loss)).collect(),
            lrs: history.lrs(),
            path: history.path,
            stopped,
            final_loss,
            diverged_at,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// A training configuration with the same seeded batch order for every optimizer: shuffled
/// unless the batch is the full data.
pub fn train_config(epochs: usize, batch: &str, seed: u64) -> Result<TrainConfig> {
    ensure!(epochs > 0, "--epochs must be at least 1");
    let batch: BatchSize = batch.parse()?;
    let order = if batch == BatchSize::Full {
        BatchOrder::Sequential
    } else {
        BatchOrder::Shuffle { seed }
    };
    let config = TrainConfig::new(epochs, batch, order);
    config.validate()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_order_is_seeded_unless_full() {
        let c = train_config(3, "4", 7).unwrap();
        assert_eq!(c.order, BatchOrder::Shuffle { seed: 7 });
        assert_eq!(
            train_config(3, "full", 7).unwrap().order,
            BatchOrder::Sequential
        );
        assert!(train_config(0, "full", 7).is_err());
        assert!(train_config(3, "lots", 7).is_err());
    }
}
