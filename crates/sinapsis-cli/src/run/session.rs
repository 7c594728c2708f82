//! A [`Session`]: everything built from an experiment (data, model, loss, optimizer,
//! scheduler, loaders), shared by `train`, `resume` and `eval`.

use std::sync::Arc;

use sinapsis::data::loader::DataLoader;
use sinapsis::nn::{ModuleExt, Sequential};
use sinapsis::optim::lr_scheduler::LRScheduler;
use sinapsis::optim::Optimizer;
use sinapsis::train::{Interval, OutputKind};
use sinapsis::Result;

use crate::build::data::{build_data, Data};
use crate::build::init_from::apply_init_from;
use crate::build::loss::{self, Loss};
use crate::build::model::{build_for, LayerInfo};
use crate::build::optim::{build_optimizer, build_scheduler};
use crate::config::{self, Experiment};

/// The objects of one run.
pub struct Session {
    /// The experiment.
    pub exp: Experiment,
    /// Data sets and their description.
    pub data: Data,
    /// The model.
    pub model: Sequential,
    /// Its layers (for the summary).
    pub layers: Vec<LayerInfo>,
    /// The loss.
    pub loss: Loss,
    /// The optimizer.
    pub optimizer: Box<dyn Optimizer>,
    /// The scheduler and when it steps.
    pub scheduler: Option<(Box<dyn LRScheduler>, Interval)>,
    /// Training batches (shuffled per `training.shuffle`, seeded by `seed`).
    pub train: DataLoader,
    /// Validation batches.
    pub val: Option<DataLoader>,
    /// Test batches.
    pub test: DataLoader,
}

/// How the output of a model trained with `loss` is read by the metrics.
pub fn output_kind(loss: &Loss) -> OutputKind {
    match loss.output_kind() {
        loss::OutputKind::BinaryProbability => OutputKind::Probabilities,
        loss::OutputKind::BinaryLogit | loss::OutputKind::ClassScores => OutputKind::Logits,
        loss::OutputKind::Regression => OutputKind::Regression,
    }
}

impl Session {
    /// Builds everything for a fresh run: the data, then the model initialised from the
    /// experiment's seed and, with `init.init_from`, loaded strictly from that file.
    ///
    /// # Errors
    /// Missing data files, an `init.init_from` file that is missing, corrupt or does not fit
    /// the model (naming `init.init_from` and the file), or anything the builders reject.
    pub fn build(exp: &Experiment) -> Result<Session> {
        Session::build_inner(exp, true)
    }

    /// Builds everything like [`Session::build`] but leaves `init.init_from` unapplied: for
    /// `resume` and `eval`, which load the run's own weights over the initial ones, so the
    /// file need not exist any more.
    ///
    /// # Errors
    /// As [`Session::build`], less the `init.init_from` ones.
    pub fn build_for_restore(exp: &Experiment) -> Result<Session> {
        Session::build_inner(exp, false)
    }

    fn build_inner(exp: &Experiment, apply_init: bool) -> Result<Session> {
        exp.validate()?;
        let data = build_data(exp)?;
        sinapsis::manual_seed(exp.seed);
        let (model, layers) = build_for(exp, &data.spec)?;
        // Loaded before the optimizer exists, so its state starts from these weights.
        if apply_init {
            if let Some(file) = apply_init_from(&model, &exp.init)? {
                println!("initial weights: {}", file.display());
            }
        }
        let loss = Loss::new(&exp.loss);
        let mut optimizer = build_optimizer(&exp.optimizer, model.named_parameters())?;
        let t = &exp.training;
        let train = DataLoader::from_arc(Arc::clone(&data.train), t.batch_size)?
            .shuffle(t.shuffle)
            .seed(exp.seed)
            .num_workers(t.num_workers);
        let eval_batch = t.batch_size.max(1000);
        let val = match &data.val {
            Some(v) => Some(DataLoader::from_arc(Arc::clone(v), eval_batch)?),
            None => None,
        };
        let test = DataLoader::from_arc(Arc::clone(&data.test), eval_batch)?;
        let scheduler = match &exp.scheduler {
            Some(cfg) => {
                let (s, interval) =
                    build_scheduler(cfg, optimizer.as_mut(), t.epochs, train.len())?;
                let interval = match interval {
                    config::Interval::Epoch => Interval::Epoch,
                    config::Interval::Step => Interval::Step,
                };
                Some((s, interval))
            }
            None => None,
        };
        // Dropout and other draws during training start from the seed too.
        sinapsis::manual_seed(exp.seed);
        Ok(Session {
            exp: exp.clone(),
            data,
            model,
            layers,
            loss,
            optimizer,
            scheduler,
            train,
            val,
            test,
        })
    }

    /// How the model's output is read by the metrics.
    pub fn output_kind(&self) -> OutputKind {
        output_kind(&self.loss)
    }
}
