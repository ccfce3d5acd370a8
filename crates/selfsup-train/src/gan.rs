//! The GAN step every adversarial method takes through the one trainer: the discriminator's
//! update(s) on real and generated images, then the generator's on its own loss plus the
//! weighted adversarial loss, each network through its own named optimiser; and the check
//! that reports a discriminator that has won.

use burn::optim::GradientsParams;
use burn::prelude::*;
use selfsup_models::StepOutput;
use selfsup_models::gan::{Adversarial, binary_cross_entropy, judged_right};
use serde::{Deserialize, Serialize};

use crate::config::{OptimizerConfig, OptimizerKind, ScheduleConfig, TrainConfig, invalid};
use crate::error::Result;
use crate::metrics::EpochRecord;
use crate::optim::{OptimizerSpec, Optimizers};
use crate::task::StepInfo;

/// The generator's optimiser: the `[train]` section's.
pub const GENERATOR: &str = "generator";
/// The discriminator's optimiser: the method's `gan` section's.
pub const DISCRIMINATOR: &str = "discriminator";
/// The metrics a GAN step reports besides the generator's own.
pub const METRICS: [&str; 4] = ["adversarial", "d_loss", "d_real_acc", "d_fake_acc"];

/// The adversarial part of a method's section (`[inpainting.gan]`, `[superres.gan]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GanSettings {
    /// Weight of the adversarial loss in the generator's loss (lambda); 0 trains the generator
    /// on its own loss alone and leaves the discriminator untouched.
    pub weight: f64,
    /// Discriminator updates per generator update (k), on the same batch.
    pub discriminator_steps: usize,
    /// Epochs of the generator's own loss alone before the adversarial phase starts (SRGAN's
    /// SRResNet warm-up).
    pub warmup_epochs: usize,
    /// The discriminator's optimiser (kind, learning rate, momentum or Adam's beta1, weight
    /// decay).
    pub optimizer: OptimizerConfig,
    /// The discriminator's learning-rate schedule.
    pub schedule: ScheduleConfig,
}

impl Default for GanSettings {
    /// DCGAN's discriminator optimiser (Adam, lr 2e-4, beta1 0.5, constant), one update per
    /// generator update, the Context Encoder's weighting.
    fn default() -> Self {
        Self {
            weight: 1e-3,
            discriminator_steps: 1,
            warmup_epochs: 0,
            optimizer: OptimizerConfig {
                kind: OptimizerKind::Adam,
                lr: 2e-4,
                momentum: 0.5,
                nesterov: false,
                weight_decay: 0.0,
            },
            schedule: ScheduleConfig {
                kind: crate::config::ScheduleKind::Constant,
                ..ScheduleConfig::default()
            },
        }
    }
}

impl GanSettings {
    /// Checks the settings; `prefix` names the section (`inpainting.gan`).
    pub fn validate(&self, prefix: &str) -> Result<()> {
        if !(self.weight.is_finite() && self.weight >= 0.0) {
            return Err(invalid(
                format!("{prefix}.weight"),
                format!("{} is not a finite number >= 0", self.weight),
            ));
        }
        if self.discriminator_steps == 0 {
            return Err(invalid(
                format!("{prefix}.discriminator_steps"),
                "must be at least 1",
            ));
        }
        self.optimizer.validate(&format!("{prefix}.optimizer"))?;
        self.schedule.validate(&format!("{prefix}.schedule"))
    }

    /// Whether epoch `epoch` (from 0) trains adversarially.
    pub fn adversarial(&self, epoch: usize) -> bool {
        self.weight > 0.0 && epoch >= self.warmup_epochs
    }

    /// The two optimisers: the generator's from `[train]`, the discriminator's from here.
    pub fn optimizers(&self, train: &TrainConfig) -> Vec<OptimizerSpec> {
        vec![
            OptimizerSpec {
                name: GENERATOR,
                optimizer: train.optimizer.clone(),
                schedule: train.schedule.clone(),
            },
            OptimizerSpec {
                name: DISCRIMINATOR,
                optimizer: self.optimizer.clone(),
                schedule: self.schedule.clone(),
            },
        ]
    }
}

/// One GAN step on `batch`. The generator runs once; in the adversarial phase the
/// discriminator is updated `discriminator_steps` times on the real images against the
/// generated ones ([`discriminator_half`]), then the generator on its own loss plus `weight` x
/// its adversarial loss judged by the updated discriminator ([`generator_half`]). Outside it,
/// the generator alone on its own loss.
pub fn step<M: Adversarial>(
    model: M,
    batch: &M::Batch,
    optimizers: &mut Optimizers,
    gan: &GanSettings,
    info: StepInfo,
) -> Result<(M, StepOutput)> {
    let generated = model.generate(batch);
    let mut model = model;
    let mut output = generated.content;
    if !gan.adversarial(info.epoch) {
        return generator_half(model, output, None, optimizers);
    }
    let (real, fake) = (generated.real.detach(), generated.fake.clone().detach());
    let mut verdicts = Vec::new();
    for _ in 0..gan.discriminator_steps {
        // The last update's verdicts are the step's.
        (model, verdicts) = discriminator_half(model, real.clone(), fake.clone(), optimizers)?;
    }
    output.metrics.extend(verdicts);
    generator_half(
        model,
        output,
        Some((generated.fake, gan.weight)),
        optimizers,
    )
}

/// The discriminator's update: binary cross-entropy of its logits on `real` (label 1) and
/// `fake` (label 0) images, both detached, stepped through the `discriminator` optimiser.
/// Returns its loss and the shares it judged right (`d_loss`, `d_real_acc`, `d_fake_acc`).
pub fn discriminator_half<M: Adversarial>(
    model: M,
    real: Tensor<4>,
    fake: Tensor<4>,
    optimizers: &mut Optimizers,
) -> Result<(M, Vec<(&'static str, Tensor<1>)>)> {
    let on_real = model.discriminator().forward(real.detach());
    let on_fake = model.discriminator().forward(fake.detach());
    let loss =
        binary_cross_entropy(on_real.clone(), true) + binary_cross_entropy(on_fake.clone(), false);
    let verdicts = vec![
        ("d_loss", loss.clone().detach()),
        ("d_real_acc", judged_right(on_real, true)),
        ("d_fake_acc", judged_right(on_fake, false)),
    ];
    let grads = loss.backward();
    let model = model.map_discriminator(|discriminator| {
        let grads = GradientsParams::from_grads(grads, &discriminator);
        optimizers.step(DISCRIMINATOR, discriminator, grads)
    })?;
    Ok((model, verdicts))
}

/// The generator's update on its own loss (`output.loss`) plus, given `(fake, weight)`, weight
/// x the non-saturating adversarial loss of the discriminator's verdict on `fake` (still
/// attached to the generator's graph); only the generator is stepped, through the `generator`
/// optimiser (the gradients reaching the discriminator are dropped).
pub fn generator_half<M: Adversarial>(
    model: M,
    mut output: StepOutput,
    adversarial: Option<(Tensor<4>, f64)>,
    optimizers: &mut Optimizers,
) -> Result<(M, StepOutput)> {
    if let Some((fake, weight)) = adversarial {
        let loss = binary_cross_entropy(model.discriminator().forward(fake), true);
        output.loss = output.loss + loss.clone().mul_scalar(weight);
        output = output.with("adversarial", loss);
    }
    let grads = output.loss.backward();
    let model = model.map_generator(|generator| {
        let grads = GradientsParams::from_grads(grads, &generator);
        optimizers.step(GENERATOR, generator, grads)
    })?;
    Ok((model, output))
}

/// Share of real and of generated images above which the discriminator is said to have won.
pub const WON: f64 = 0.99;

/// What the log says after an epoch in which the discriminator told real from generated
/// images almost always (the generator's adversarial loss then teaches it nothing useful), with
/// the trend of that loss since the first adversarial epoch.
pub fn discriminator_notes(history: &[EpochRecord], latest: &EpochRecord) -> Vec<String> {
    let get = |r: &EpochRecord, n: &str| r.train.get(n).copied();
    let (Some(real), Some(fake)) = (get(latest, "d_real_acc"), get(latest, "d_fake_acc")) else {
        return Vec::new();
    };
    if real < WON || fake < WON {
        return Vec::new();
    }
    let adversarial = get(latest, "adversarial").unwrap_or(f64::NAN);
    let first = history
        .iter()
        .find_map(|r| get(r, "adversarial"))
        .unwrap_or(adversarial);
    vec![format!(
        "the discriminator wins: it judged {:.1}% of real and {:.1}% of generated images right \
         in epoch {}, and the generator's adversarial loss is {adversarial:.3} (first \
         adversarial epoch: {first:.3}); the adversarial term no longer guides the generator \
         (lower gan.optimizer.lr or gan.discriminator_steps, or raise gan.weight)",
        100.0 * real,
        100.0 * fake,
        latest.epoch
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;

    fn record(epoch: usize, values: &[(&str, f64)]) -> EpochRecord {
        EpochRecord {
            epoch,
            train: values
                .iter()
                .map(|(n, v)| (n.to_string(), *v))
                .collect::<Metrics>(),
            val: Metrics::new(),
            hook: Metrics::new(),
            lr: Metrics::new(),
            images_per_second: 1.0,
            seconds: 1.0,
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_winning_discriminator_is_reported() {
        let first = record(
            1,
            &[
                ("adversarial", 0.7),
                ("d_real_acc", 0.6),
                ("d_fake_acc", 0.6),
            ],
        );
        let won = record(
            2,
            &[
                ("adversarial", 6.5),
                ("d_real_acc", 1.0),
                ("d_fake_acc", 0.995),
            ],
        );
        assert!(discriminator_notes(&[], &first).is_empty());
        let notes = discriminator_notes(&[first], &won);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("discriminator wins") && notes[0].contains("6.500"),
            "{}",
            notes[0]
        );
        assert!(notes[0].contains("0.700"), "{}", notes[0]);
        let plain = record(1, &[("l2", 0.1)]);
        assert!(discriminator_notes(&[], &plain).is_empty());
    }

    #[test]
    fn settings_are_checked_by_key() {
        let gan = GanSettings {
            discriminator_steps: 0,
            ..Default::default()
        };
        let err = gan.validate("inpainting.gan").unwrap_err().to_string();
        assert!(err.contains("inpainting.gan.discriminator_steps"), "{err}");
        let gan = GanSettings {
            weight: -1.0,
            ..Default::default()
        };
        assert!(gan.validate("x").is_err());
        assert!(
            !GanSettings {
                warmup_epochs: 2,
                ..Default::default()
            }
            .adversarial(1)
        );
        assert!(
            GanSettings {
                warmup_epochs: 2,
                ..Default::default()
            }
            .adversarial(2)
        );
        assert!(
            !GanSettings {
                weight: 0.0,
                ..Default::default()
            }
            .adversarial(5)
        );
    }
}
