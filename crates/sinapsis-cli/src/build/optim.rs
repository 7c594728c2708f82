//! The optimizer and learning-rate scheduler.

use crate::config::{Interval, OptimizerConfig, SchedulerConfig};
use sinapsis::optim::lr_scheduler::*;
use sinapsis::optim::*;
use sinapsis::{Result, Tensor};

/// Builds the optimizer over `params` (what `model.named_parameters()` returns).
pub fn build_optimizer(
    cfg: &OptimizerConfig,
    params: Vec<(String, Tensor)>,
) -> Result<Box<dyn Optimizer>> {
    Ok(match cfg.clone() {
        OptimizerConfig::Sgd {
            lr,
            momentum,
            dampening,
            weight_decay,
            nesterov,
        } => Box::new(SGD::new(
            params,
            SgdConfig {
                lr,
                momentum,
                dampening,
                weight_decay,
                nesterov,
                ..Default::default()
            },
        )?),
        OptimizerConfig::Adam {
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
        } => Box::new(Adam::new(
            params,
            AdamConfig {
                lr,
                betas: (betas[0], betas[1]),
                eps,
                weight_decay,
                amsgrad,
                ..Default::default()
            },
        )?),
        OptimizerConfig::Adamw {
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
        } => Box::new(AdamW::new(
            params,
            AdamWConfig {
                lr,
                betas: (betas[0], betas[1]),
                eps,
                weight_decay,
                amsgrad,
                ..Default::default()
            },
        )?),
        OptimizerConfig::Rmsprop {
            lr,
            alpha,
            eps,
            weight_decay,
            momentum,
            centered,
        } => Box::new(RMSprop::new(
            params,
            RmspropConfig {
                lr,
                alpha,
                eps,
                weight_decay,
                momentum,
                centered,
                ..Default::default()
            },
        )?),
        OptimizerConfig::Adagrad {
            lr,
            lr_decay,
            weight_decay,
            initial_accumulator_value,
            eps,
        } => Box::new(Adagrad::new(
            params,
            AdagradConfig {
                lr,
                lr_decay,
                weight_decay,
                initial_accumulator_value,
                eps,
                ..Default::default()
            },
        )?),
    })
}

/// Builds the scheduler (performing its first step, as PyTorch does) and says when to
/// step it. `epochs` and `steps_per_epoch` size the cosine and one-cycle schedules.
pub fn build_scheduler(
    cfg: &SchedulerConfig,
    optimizer: &mut dyn Optimizer,
    epochs: usize,
    steps_per_epoch: usize,
) -> Result<(Box<dyn LRScheduler>, Interval)> {
    let per = |i: Interval| {
        if i == Interval::Step {
            steps_per_epoch * epochs
        } else {
            epochs
        }
    };
    let s: Box<dyn LRScheduler> = match cfg.clone() {
        SchedulerConfig::Step {
            step_size, gamma, ..
        } => Box::new(StepLR::new(optimizer, step_size, gamma)?),
        SchedulerConfig::Multistep {
            milestones, gamma, ..
        } => Box::new(MultiStepLR::new(optimizer, &milestones, gamma)?),
        SchedulerConfig::Exponential { gamma, .. } => {
            Box::new(ExponentialLR::new(optimizer, gamma)?)
        }
        SchedulerConfig::Cosine {
            t_max,
            eta_min,
            interval,
        } => Box::new(CosineAnnealingLR::new(
            optimizer,
            t_max.unwrap_or_else(|| per(interval)),
            eta_min,
        )?),
        SchedulerConfig::CosineWarmRestarts {
            t_0,
            t_mult,
            eta_min,
            ..
        } => Box::new(CosineAnnealingWarmRestarts::new(
            optimizer, t_0, t_mult, eta_min,
        )?),
        SchedulerConfig::Linear {
            start_factor,
            end_factor,
            total_iters,
            ..
        } => Box::new(LinearLR::new(
            optimizer,
            start_factor,
            end_factor,
            total_iters,
        )?),
        SchedulerConfig::ReduceOnPlateau {
            mode,
            factor,
            patience,
            threshold,
            threshold_mode,
            cooldown,
            min_lr,
            eps,
            ..
        } => Box::new(ReduceLROnPlateau::new(
            optimizer,
            ReduceLROnPlateauOptions {
                mode: mode.parse()?,
                factor,
                patience,
                threshold,
                threshold_mode: threshold_mode.parse()?,
                cooldown,
                min_lr: vec![min_lr],
                eps,
            },
        )?),
        SchedulerConfig::Onecycle {
            max_lr,
            pct_start,
            anneal_strategy,
            div_factor,
            final_div_factor,
            three_phase,
            cycle_momentum,
            ..
        } => {
            let max_lr = max_lr
                .unwrap_or_else(|| optimizer.learning_rates().first().copied().unwrap_or(0.1));
            let opts = OneCycleLROptions {
                pct_start,
                anneal_strategy: anneal_strategy.parse()?,
                div_factor,
                final_div_factor,
                three_phase,
                cycle_momentum,
                ..Default::default()
            };
            Box::new(OneCycleLR::with_epochs(
                optimizer,
                &[max_lr],
                epochs,
                steps_per_epoch,
                opts,
            )?)
        }
    };
    Ok((s, cfg.interval()))
}
