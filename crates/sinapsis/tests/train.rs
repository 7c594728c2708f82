//! The training loop: the circles tutorial reaches its accuracy; early stopping stops and
//! restores the best weights; a NaN loss stops with the epoch and batch; gradient
//! accumulation equals a larger batch; a stop request (Ctrl-C) ends the run cleanly;
//! history.csv and steps.csv hold what the run did.

mod common;

use std::sync::{Arc, Mutex};

use sinapsis::data::dataset::{Dataset, Subset, TensorDataset};
use sinapsis::data::loader::DataLoader;
use sinapsis::data::split::{train_test_split, TestSize};
use sinapsis::data::synthetic::make_circles;
use sinapsis::nn::init::{kaiming_uniform_, FanMode};
use sinapsis::nn::loss::{BCELoss, MSELoss};
use sinapsis::nn::{Linear, ModuleExt, ReLU, Sequential, Sigmoid};
use sinapsis::optim::lr_scheduler::StepLR;
use sinapsis::optim::{SgdConfig, SGD};
use sinapsis::train::{
    evaluate, interrupt, Callback, Context, Control, EarlyStopping, EpochLog, EvalOptions,
    HistoryCsv, OutputKind, StepLog, StepsCsv, StopReason, TrainConfig, Trainer,
};
use sinapsis::{DType, Result, Tensor};

/// The circles tutorial's data: make_circles(10000, noise 0.05, seed 26), 67/33 split,
/// float (N, 1) targets for BCE.
fn circles() -> Result<(Arc<dyn Dataset>, Arc<dyn Dataset>)> {
    let (x, y) = make_circles(10000, true, 0.05, 0.8, 26)?;
    let y = y.to_dtype(DType::F32)?.reshape((10000, 1))?;
    let all = Arc::new(TensorDataset::new(vec![x, y])?);
    let (train, test) = train_test_split(10000, TestSize::Fraction(0.33), true, 26, None)?;
    Ok((
        Arc::new(Subset::new(all.clone(), train)?),
        Arc::new(Subset::new(all, test)?),
    ))
}

fn mlp_2_10_1() -> Result<Sequential> {
    let model = Sequential::new()
        .add(Linear::new(2, 10)?)
        .add(ReLU)
        .add(Linear::new(10, 1)?)
        .add(Sigmoid);
    for (name, p) in model.named_parameters() {
        if name.ends_with("weight") {
            kaiming_uniform_(&p, 0.0, FanMode::FanIn, "relu")?;
        }
    }
    Ok(model)
}

fn sgd(model: &impl ModuleExt, lr: f64) -> Result<SGD> {
    SGD::new(
        model.named_parameters(),
        SgdConfig {
            lr,
            ..Default::default()
        },
    )
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sinapsis-train-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn circles_tutorial_reaches_97_percent() -> Result<()> {
    let _rng = common::default_generator();
    sinapsis::manual_seed(26);
    let (train, test) = circles()?;
    let train = DataLoader::from_arc(train, 64)?.shuffle(true).seed(26);
    let test = DataLoader::from_arc(test, 1024)?;
    let model = mlp_2_10_1()?;
    let mut opt = sgd(&model, 0.1)?;
    let bce = BCELoss::new();
    let dir = temp_dir("circles");
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 100,
        output: OutputKind::Probabilities,
        ..Default::default()
    })
    .callback(HistoryCsv::new(dir.join("history.csv")))
    .callback(StepsCsv::new(dir.join("steps.csv")));
    let history = trainer.fit(
        &model,
        &|o, t| bce.forward(o, t),
        &mut opt,
        None,
        &train,
        Some(&test),
    )?;
    assert_eq!(history.stop, StopReason::Completed);
    assert_eq!(history.epochs.len(), 100);
    assert_eq!(history.steps, 100 * train.len() as u64);
    let last = history.last().unwrap();
    let acc = last.val_acc.unwrap();
    assert!(acc >= 0.97, "test accuracy {acc}");
    assert!(last.train_loss < history.epochs[0].train_loss);
    let eval = evaluate(
        &model,
        &|o, t| bce.forward(o, t),
        &test,
        &EvalOptions {
            output: OutputKind::Probabilities,
            class_names: Some(vec!["outer".into(), "inner".into()]),
            keep_predictions: true,
            ..Default::default()
        },
    )?;
    assert_eq!(eval.accuracy, Some(acc));
    assert!((eval.loss - last.val_loss.unwrap()).abs() < 1e-12);
    assert_eq!(eval.samples, 3300);
    assert_eq!(eval.confusion_matrix.as_ref().unwrap().total(), 3300);
    let report = eval.report.as_ref().unwrap();
    assert_eq!(report.classes, vec!["outer", "inner"]);
    assert!(report.macro_avg.f1 >= 0.97);
    assert!(eval.roc_auc.unwrap() > 0.99, "{:?}", eval.roc_auc);
    assert_eq!(eval.predictions.len(), 3300);
    let json = serde_json::to_string(&eval).unwrap();
    assert!(json.contains("\"confusion_matrix\"") && json.contains("\"roc_auc\""));
    let csv = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    assert!(csv.starts_with("epoch,train_loss,train_acc,val_loss,val_acc,lr,time_s\n"));
    assert_eq!(csv.lines().count(), 101);
    let steps = std::fs::read_to_string(dir.join("steps.csv")).unwrap();
    assert_eq!(steps.lines().count() as u64, 1 + history.steps);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A regression set whose validation loss gets worse after a while: training data that
/// disagrees with the validation data.
#[test]
fn early_stopping_stops_and_restores_the_best_weights() -> Result<()> {
    let _rng = common::default_generator();
    sinapsis::manual_seed(1);
    let x = Tensor::randn((64, 1), DType::F32)?;
    let train = DataLoader::new(TensorDataset::new(vec![x.clone(), x.mul_scalar(3.0)?])?, 16)?;
    let val = DataLoader::new(TensorDataset::new(vec![x.clone(), x.mul_scalar(0.5)?])?, 64)?;
    let model = Linear::new(1, 1)?;
    model.weight.update_::<f32>(|w| w.fill(0.0))?;
    let mut opt = sgd(&model, 0.05)?;
    let mse = MSELoss::new();
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 200,
        output: OutputKind::Regression,
        ..Default::default()
    })
    .callback(EarlyStopping::new("val_loss").patience(3));
    let h = trainer.fit(
        &model,
        &|o, t| mse.forward(o, t),
        &mut opt,
        None,
        &train,
        Some(&val),
    )?;
    let StopReason::Stopped { epoch, reason } = &h.stop else {
        panic!("expected an early stop, got {:?}", h.stop);
    };
    assert!(reason.contains("val_loss"), "{reason}");
    assert!(*epoch < 200);
    let best = h
        .epochs
        .iter()
        .map(|e| e.val_loss.unwrap())
        .fold(f64::INFINITY, f64::min);
    let (now, _) = sinapsis::train::evaluate_loss(
        &model,
        &|o, t| mse.forward(o, t),
        &val,
        OutputKind::Regression,
    )?;
    assert!((now - best).abs() < 1e-9, "restored {now} vs best {best}");
    Ok(())
}

#[test]
fn non_finite_loss_stops_with_epoch_and_batch() -> Result<()> {
    let _rng = common::default_generator();
    sinapsis::manual_seed(2);
    let x = Tensor::randn((32, 2), DType::F32)?.mul_scalar(100.0)?;
    let y = x.sum([1], true)?;
    let train = DataLoader::new(TensorDataset::new(vec![x, y])?, 8)?;
    let model = Linear::new(2, 1)?;
    let mut opt = sgd(&model, 10.0)?;
    let mse = MSELoss::new();
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 50,
        output: OutputKind::Regression,
        ..Default::default()
    });
    let h = trainer.fit(
        &model,
        &|o, t| mse.forward(o, t),
        &mut opt,
        None,
        &train,
        None,
    )?;
    let StopReason::NonFiniteLoss { epoch, batch, .. } = h.stop else {
        panic!("expected a non-finite stop, got {:?}", h.stop);
    };
    assert!(epoch >= 1 && (1..=4).contains(&batch));
    let msg = h.stop.to_string();
    assert!(
        msg.contains(&format!("epoch {epoch}, batch {batch}")),
        "{msg}"
    );
    Ok(())
}

/// Two micro-batches of 8 with accumulation make the same step as one batch of 16.
#[test]
fn gradient_accumulation_equals_the_larger_batch() -> Result<()> {
    let _rng = common::default_generator();
    sinapsis::manual_seed(3);
    let x = Tensor::randn((64, 4), DType::F64)?;
    let y = x.sum([1], true)?.sin()?;
    let ds = TensorDataset::new(vec![x, y])?;
    let run = |batch: usize, accum: usize| -> Result<Vec<f64>> {
        sinapsis::manual_seed(4);
        let model = Sequential::new()
            .add(Linear::with_options(4, 8, true, DType::F64)?)
            .add(ReLU)
            .add(Linear::with_options(8, 1, true, DType::F64)?);
        let mut opt = sgd(&model, 0.1)?;
        let mse = MSELoss::new();
        let loader = DataLoader::new(ds.clone(), batch)?.shuffle(true).seed(5);
        let mut trainer = Trainer::new(TrainConfig {
            epochs: 3,
            output: OutputKind::Regression,
            grad_accum_steps: accum,
            ..Default::default()
        });
        trainer.fit(
            &model,
            &|o, t| mse.forward(o, t),
            &mut opt,
            None,
            &loader,
            None,
        )?;
        Ok(model
            .parameters()
            .iter()
            .flat_map(|p| p.to_vec::<f64>().unwrap())
            .collect())
    };
    let big = run(16, 1)?;
    let small = run(8, 2)?;
    for (a, b) in big.iter().zip(&small) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    Ok(())
}

/// A stop request (what Ctrl-C sets) ends the run after the current step; callbacks hear
/// about it.
#[test]
fn stop_request_interrupts_after_the_step() -> Result<()> {
    let _rng = common::default_generator();
    struct StopAtStep(u64, Option<StopReason>);
    impl Callback for StopAtStep {
        fn on_step_end(&mut self, _ctx: &mut Context<'_>, log: &StepLog) -> Result<()> {
            if log.step == self.0 {
                interrupt::request_stop();
            }
            Ok(())
        }
        fn on_train_end(&mut self, _ctx: &mut Context<'_>, stop: &StopReason) -> Result<()> {
            self.1 = Some(stop.clone());
            Ok(())
        }
    }
    let x = Tensor::randn((40, 2), DType::F32)?;
    let y = x.sum([1], true)?;
    let train = DataLoader::new(TensorDataset::new(vec![x, y])?, 4)?;
    let model = Linear::new(2, 1)?;
    let mut opt = sgd(&model, 0.01)?;
    let mse = MSELoss::new();
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 5,
        output: OutputKind::Regression,
        handle_ctrl_c: true,
        ..Default::default()
    })
    .callback(StopAtStep(13, None));
    let h = trainer.fit(
        &model,
        &|o, t| mse.forward(o, t),
        &mut opt,
        None,
        &train,
        None,
    )?;
    assert_eq!(h.stop, StopReason::Interrupted { epoch: 2, step: 13 });
    assert_eq!(h.steps, 13);
    assert_eq!(h.epochs.len(), 1);
    assert!(!interrupt::stop_requested());
    Ok(())
}

/// Callbacks can add metrics that later callbacks and the history see.
#[test]
fn callbacks_add_metrics_and_can_stop() -> Result<()> {
    let _rng = common::default_generator();
    struct Extra;
    impl Callback for Extra {
        fn on_epoch_end(&mut self, ctx: &mut Context<'_>, log: &mut EpochLog) -> Result<Control> {
            log.extra.insert("twice_loss".into(), 2.0 * log.train_loss);
            Ok(if ctx.epoch >= 2 {
                Control::Stop("enough".into())
            } else {
                Control::Continue
            })
        }
    }
    let x = Tensor::randn((8, 2), DType::F32)?;
    let train = DataLoader::new(TensorDataset::new(vec![x.clone(), x.sum([1], true)?])?, 4)?;
    let model = Linear::new(2, 1)?;
    let mut opt = sgd(&model, 0.01)?;
    let mse = MSELoss::new();
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 10,
        output: OutputKind::Regression,
        ..Default::default()
    })
    .callback(Extra);
    let h = trainer.fit(
        &model,
        &|o, t| mse.forward(o, t),
        &mut opt,
        None,
        &train,
        None,
    )?;
    assert_eq!(h.epochs.len(), 2);
    assert_eq!(
        h.stop,
        StopReason::Stopped {
            epoch: 2,
            reason: "enough".into()
        }
    );
    let e = &h.epochs[1];
    assert_eq!(e.metric("twice_loss"), Some(2.0 * e.train_loss));
    let csv = sinapsis::train::history_csv(&h.epochs);
    assert!(csv.lines().next().unwrap().ends_with(",twice_loss"));
    Ok(())
}

/// The `lr` of an epoch's log is the rate that epoch trained with: under StepLR(step 2,
/// gamma 0.1) epochs 1-2 log 1.0 and epochs 3-4 log 0.1, and each step logs its own rate.
#[test]
fn epoch_logs_the_learning_rate_it_trained_with() -> Result<()> {
    let _rng = common::default_generator();
    struct Rates(Arc<Mutex<Vec<f64>>>);
    impl Callback for Rates {
        fn on_step_end(&mut self, _: &mut Context<'_>, log: &StepLog) -> Result<()> {
            self.0.lock().unwrap().push(log.lr);
            Ok(())
        }
    }
    let x = Tensor::randn((8, 2), DType::F32)?;
    let train = DataLoader::new(TensorDataset::new(vec![x.clone(), x.sum([1], true)?])?, 8)?;
    let model = Linear::new(2, 1)?;
    let mut opt = sgd(&model, 1.0)?;
    let mut sched = StepLR::new(&mut opt, 2, 0.1)?;
    let mse = MSELoss::new();
    let steps = Arc::new(Mutex::new(Vec::new()));
    let h = Trainer::new(TrainConfig {
        epochs: 4,
        output: OutputKind::Regression,
        ..Default::default()
    })
    .callback(Rates(steps.clone()))
    .fit(
        &model,
        &|o, t| mse.forward(o, t),
        &mut opt,
        Some(&mut sched),
        &train,
        None,
    )?;
    let logged: Vec<f64> = h.epochs.iter().map(|e| e.lr).collect();
    let steps = steps.lock().unwrap().clone();
    let expected = [1.0, 1.0, 0.1, 0.1];
    assert_eq!(steps.len(), 4);
    for (got, want) in logged
        .iter()
        .chain(&steps)
        .zip(expected.iter().chain(&expected))
    {
        assert!(
            (got - want).abs() < 1e-12,
            "epochs {logged:?}, steps {steps:?}"
        );
    }
    Ok(())
}

/// A run interrupted in the middle of an epoch and resumed from its checkpoint logs that
/// epoch's loss and accuracy over the whole epoch, bitwise as the uninterrupted run: the
/// checkpoint carries the sums of the batches trained before the stop.
#[test]
fn mid_epoch_resume_logs_the_whole_epoch() -> Result<()> {
    let _rng = common::default_generator();
    use sinapsis::train::{restore_run, ModelCheckpoint};

    /// At step `at`, writes the checkpoint a Ctrl-C would write (without stopping the run).
    struct SnapshotAt(u64, ModelCheckpoint);
    impl Callback for SnapshotAt {
        fn on_step_end(&mut self, ctx: &mut Context<'_>, log: &StepLog) -> Result<()> {
            if log.step == self.0 {
                let stop = StopReason::Interrupted {
                    epoch: log.epoch,
                    step: log.step,
                };
                self.1.on_train_end(ctx, &stop)?;
            }
            Ok(())
        }
    }

    let (train_ds, _) = circles()?;
    let loader = || -> Result<DataLoader> {
        Ok(DataLoader::from_arc(train_ds.clone(), 64)?
            .shuffle(true)
            .seed(3))
    };
    let bce = BCELoss::new();
    let loss = |o: &Tensor, t: &Tensor| bce.forward(o, t);
    let config = || TrainConfig {
        epochs: 3,
        output: OutputKind::Probabilities,
        ..Default::default()
    };
    let dir = temp_dir("mid-epoch");
    let _ = std::fs::remove_dir_all(&dir);
    // 6700 samples in batches of 64: 105 steps per epoch; step 150 is inside epoch 2.
    sinapsis::manual_seed(5);
    let model = mlp_2_10_1()?;
    let mut opt = sgd(&model, 0.1)?;
    let mut trainer = Trainer::new(config()).callback(SnapshotAt(150, ModelCheckpoint::new(&dir)));
    let full = trainer.fit(&model, &loss, &mut opt, None, &loader()?, None)?;

    let resume = |with_sums: bool| -> Result<Vec<EpochLog>> {
        sinapsis::manual_seed(99);
        let model = mlp_2_10_1()?;
        let mut opt = sgd(&model, 0.1)?;
        let point = restore_run(&dir.join("last"), &model, &mut opt, None)?;
        assert_eq!((point.epoch, point.step, point.batches_done), (1, 150, 45));
        assert_eq!(point.epoch_sums.samples, 45 * 64);
        let mut trainer = Trainer::new(config())
            .resume_from(point.epoch, point.step, point.history)
            .skip_batches(point.batches_done);
        if with_sums {
            trainer = trainer.skipped_sums(point.epoch_sums);
        }
        Ok(trainer
            .fit(&model, &loss, &mut opt, None, &loader()?, None)?
            .epochs)
    };
    let resumed = resume(true)?;
    assert_eq!(resumed.len(), 3);
    for (a, b) in full.epochs.iter().zip(&resumed) {
        assert_eq!(
            a.train_loss.to_bits(),
            b.train_loss.to_bits(),
            "epoch {}",
            a.epoch
        );
        assert_eq!(a.train_acc, b.train_acc, "epoch {}", a.epoch);
    }
    // Without the sums the resumed epoch would cover only its last 60 batches.
    let partial = resume(false)?;
    assert_ne!(partial[1].train_loss, full.epochs[1].train_loss);
    assert_eq!(
        partial[2].train_loss.to_bits(),
        full.epochs[2].train_loss.to_bits()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
