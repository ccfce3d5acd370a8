//! The learning rate as a pure function of the step, so that a resumed run continues exactly.
//!
//! Extending a finished or interrupted run (`--resume --set train.epochs=N` with a new N) does
//! not restart its schedule: the plan gains a segment from the current step to the new end, in
//! which a cosine schedule decays from the rate it had reached to `min_lr`; step and constant
//! schedules and the warm-up are defined in absolute epochs and simply continue. The segments
//! are saved with every checkpoint, so the extended run resumes exactly too.

use serde::{Deserialize, Serialize};

use crate::config::{OptimizerConfig, ScheduleConfig, ScheduleKind};

/// The learning rate at `step` (0-based) of a run of `epochs` epochs of `steps_per_epoch` steps.
pub fn learning_rate(
    optimizer: &OptimizerConfig,
    schedule: &ScheduleConfig,
    step: usize,
    steps_per_epoch: usize,
    epochs: usize,
) -> f64 {
    let per_epoch = steps_per_epoch.max(1) as f64;
    // The rate of the step's middle, so a step's rate never depends on rounding at boundaries.
    let t = (step as f64 + 0.5) / per_epoch; // epochs elapsed
    let peak = optimizer.lr;
    let warmup = schedule.warmup_epochs;
    if t < warmup {
        return peak * t / warmup;
    }
    match schedule.kind {
        ScheduleKind::Constant => peak,
        ScheduleKind::Step => {
            let passed = schedule
                .milestones
                .iter()
                .filter(|&&m| (m as f64) <= t)
                .count();
            peak * schedule.gamma.powi(passed as i32)
        }
        ScheduleKind::Cosine => {
            let total = (epochs as f64 - warmup).max(f64::EPSILON);
            let progress = ((t - warmup) / total).clamp(0.0, 1.0);
            let min = schedule.min_lr;
            min + (peak - min) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
        }
    }
}

/// A part of a run's plan: from `start_step` on, the run ends after `epochs` epochs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSegment {
    /// The first step the segment governs.
    pub start_step: usize,
    /// The run's total length, in epochs, from then on.
    pub epochs: usize,
}

/// The steps of a run and how its length changed along the way.
#[derive(Clone, Debug, PartialEq)]
pub struct SchedulePlan {
    /// Optimiser steps per epoch.
    pub steps_per_epoch: usize,
    /// At least one segment, the first starting at step 0.
    pub segments: Vec<PlanSegment>,
}

impl SchedulePlan {
    /// A run of `epochs` epochs.
    pub fn new(steps_per_epoch: usize, epochs: usize) -> Self {
        Self {
            steps_per_epoch,
            segments: vec![PlanSegment {
                start_step: 0,
                epochs,
            }],
        }
    }

    /// The plan after changing the run's length to `epochs` at `step` (unchanged if it already
    /// ends there).
    pub fn extended(&self, step: usize, epochs: usize) -> Self {
        let mut plan = self.clone();
        if plan.segments.last().map(|s| s.epochs) != Some(epochs) {
            plan.segments.push(PlanSegment {
                start_step: step,
                epochs,
            });
        }
        plan
    }

    /// The learning rate at `step` (0-based).
    pub fn rate(&self, optimizer: &OptimizerConfig, schedule: &ScheduleConfig, step: usize) -> f64 {
        let index = self
            .segments
            .iter()
            .rposition(|s| s.start_step <= step)
            .unwrap_or(0);
        let segment = self.segments[index];
        let base = learning_rate(
            optimizer,
            schedule,
            step,
            self.steps_per_epoch,
            segment.epochs,
        );
        let t = (step as f64 + 0.5) / self.steps_per_epoch.max(1) as f64;
        if index == 0 || schedule.kind != ScheduleKind::Cosine || t < schedule.warmup_epochs {
            return base;
        }
        // Decay from where the earlier plan had reached to min_lr at the new end.
        let earlier = SchedulePlan {
            steps_per_epoch: self.steps_per_epoch,
            segments: self.segments[..index].to_vec(),
        };
        let from = earlier.rate(optimizer, schedule, segment.start_step);
        let end = (segment.epochs * self.steps_per_epoch) as f64;
        let start = segment.start_step as f64;
        let progress = ((step as f64 + 0.5 - start) / (end - start).max(1.0)).clamp(0.0, 1.0);
        let min = schedule.min_lr;
        min + (from - min) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extending_a_cosine_run_continues_without_a_jump() {
        let optimizer = OptimizerConfig::default();
        let schedule = ScheduleConfig::default();
        let plan = SchedulePlan::new(10, 2);
        let before = plan.rate(&optimizer, &schedule, 19);
        assert!(before < 0.001, "{before}");
        let longer = plan.extended(20, 4);
        // The first 20 steps keep their rates; the new ones start from the rate reached and
        // decay to min_lr, never jumping back up towards the peak.
        for step in 0..20 {
            assert_eq!(
                longer.rate(&optimizer, &schedule, step),
                plan.rate(&optimizer, &schedule, step)
            );
        }
        let rates: Vec<f64> = (20..40)
            .map(|s| longer.rate(&optimizer, &schedule, s))
            .collect();
        assert!(rates[0] <= before + 1e-12, "{rates:?}");
        assert!(rates.windows(2).all(|w| w[1] <= w[0]), "{rates:?}");
        // Extended half-way through: continues down from the half-way rate to 0 at the new end.
        let mid = plan.extended(10, 4);
        let at = plan.rate(&optimizer, &schedule, 10);
        assert!((mid.rate(&optimizer, &schedule, 10) - at).abs() < 0.01 * at);
        assert!(mid.rate(&optimizer, &schedule, 39) < 1e-3);
        assert_eq!(plan.extended(20, 2), plan);
    }

    fn lr(kind: ScheduleKind, warmup: f64, step: usize) -> f64 {
        let schedule = ScheduleConfig {
            kind,
            warmup_epochs: warmup,
            milestones: vec![2, 3],
            gamma: 0.1,
            min_lr: 0.0,
        };
        learning_rate(&OptimizerConfig::default(), &schedule, step, 10, 4)
    }

    #[test]
    fn schedules_follow_their_shape() {
        assert_eq!(lr(ScheduleKind::Constant, 0.0, 37), 0.1);
        assert_eq!(lr(ScheduleKind::Step, 0.0, 5), 0.1);
        assert!((lr(ScheduleKind::Step, 0.0, 25) - 0.01).abs() < 1e-12);
        assert!((lr(ScheduleKind::Step, 0.0, 35) - 0.001).abs() < 1e-12);
        // Cosine starts near the peak, is half-way at mid-run and ends near zero.
        assert!(lr(ScheduleKind::Cosine, 0.0, 0) > 0.0999);
        assert!((lr(ScheduleKind::Cosine, 0.0, 20) - 0.05).abs() < 0.002);
        assert!(lr(ScheduleKind::Cosine, 0.0, 39) < 0.0002);
        // Warm-up rises linearly from zero.
        assert!(lr(ScheduleKind::Cosine, 1.0, 0) < 0.006);
        assert!((lr(ScheduleKind::Cosine, 1.0, 4) - 0.045).abs() < 1e-9);
    }
}
