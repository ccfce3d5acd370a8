//! The learning rate as a pure function of the step, so that a resumed run continues exactly.

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

#[cfg(test)]
mod tests {
    use super::*;

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
