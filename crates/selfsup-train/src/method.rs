//! [`Method`]: the registry of built-in pretext methods. The one list at the bottom of this file
//! generates the method switch, its configuration sections ([`MethodConfig`]) and the dispatch
//! to generic code ([`MethodVisitor`]); the CLI's `train`, `show` and the error listing the known
//! methods all follow from it. Adding a method is one line there, plus its task and config.

use std::any::Any;
use std::fmt;
use std::str::FromStr;

use crate::config::section_from;
use crate::error::{Result, TrainError};
use crate::task::{MethodSettings, PretextTask};

/// Generic code run for one method's task type: `method.visit(visitor)` calls
/// `visitor.visit::<ThatTask>()`.
pub trait MethodVisitor {
    /// What the visit returns.
    type Output;

    /// Runs with the method's task type.
    fn visit<T: PretextTask>(self) -> Self::Output;
}

/// Serialises a method section (a struct) to a TOML table.
fn to_table<C: serde::Serialize>(config: &C) -> toml::Table {
    match toml::Value::try_from(config) {
        Ok(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    }
}

macro_rules! methods {
    ($( $(#[doc = $doc:literal])* $variant:ident => $task:ty ),+ $(,)?) => {
        /// A built-in pretext method.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Method {
            $( $(#[doc = $doc])* $variant, )+
        }

        impl Method {
            /// Every built-in method.
            pub const ALL: &'static [Method] = &[$( Method::$variant ),+];

            /// The name used in configs, checkpoints and on the command line.
            pub fn name(self) -> &'static str {
                match self {
                    $( Method::$variant => <$task as PretextTask>::NAME, )+
                }
            }

            /// The method's default section.
            pub fn default_config(self) -> MethodConfig {
                match self {
                    $( Method::$variant => MethodConfig::$variant(Default::default()), )+
                }
            }

            /// The `[train]` settings the method starts from.
            pub fn default_train(self) -> crate::config::TrainConfig {
                match self {
                    $( Method::$variant => <$task as PretextTask>::default_train(), )+
                }
            }

            /// Runs `visitor` with this method's task type.
            pub fn visit<V: MethodVisitor>(self, visitor: V) -> V::Output {
                match self {
                    $( Method::$variant => visitor.visit::<$task>(), )+
                }
            }
        }

        /// A method with its own settings: a built-in one, or one defined outside selfsup
        /// (kept as its raw TOML section, which its task reads).
        #[derive(Clone, Debug, PartialEq)]
        pub enum MethodConfig {
            $( $(#[doc = $doc])* $variant(<$task as PretextTask>::Config), )+
            /// A method defined outside selfsup's crates.
            Custom {
                /// Its name.
                name: String,
                /// Its section.
                section: toml::Table,
            },
        }

        impl MethodConfig {
            /// The method's name.
            pub fn name(&self) -> &str {
                match self {
                    $( MethodConfig::$variant(_) => <$task as PretextTask>::NAME, )+
                    MethodConfig::Custom { name, .. } => name,
                }
            }

            /// The built-in method, if it is one.
            pub fn method(&self) -> Option<Method> {
                Method::from_name(self.name())
            }

            fn settings(&self) -> Option<&dyn Any> {
                match self {
                    $( MethodConfig::$variant(c) => Some(c as &dyn Any), )+
                    MethodConfig::Custom { .. } => None,
                }
            }

            /// Reads the section of method `name`; unknown names become [`MethodConfig::Custom`].
            pub(crate) fn from_section(name: &str, section: toml::Table) -> std::result::Result<Self, String> {
                match Method::from_name(name) {
                    $( Some(Method::$variant) => section_from(section, name).map(MethodConfig::$variant), )+
                    None => Ok(MethodConfig::Custom { name: name.to_string(), section }),
                }
            }

            /// The section as a TOML table.
            pub(crate) fn to_section(&self) -> toml::Table {
                match self {
                    $( MethodConfig::$variant(c) => to_table(c), )+
                    MethodConfig::Custom { section, .. } => section.clone(),
                }
            }

            /// Checks the settings, naming the key at fault.
            pub fn validate(&self) -> Result<()> {
                match self {
                    $( MethodConfig::$variant(c) => MethodSettings::validate(c), )+
                    MethodConfig::Custom { .. } => Ok(()),
                }
            }
        }
    };
}

/// Other names the command line accepts for a method.
const ALIASES: &[(&str, Method)] = &[
    ("context", Method::ContextPrediction),
    ("deepcluster", Method::DeepCluster),
    ("srgan", Method::SuperRes),
];

impl Method {
    /// The built-in method called `name` (or one of its aliases: `context`, `deepcluster`).
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL
            .iter()
            .copied()
            .find(|m| m.name() == name)
            .or_else(|| ALIASES.iter().find(|(a, _)| *a == name).map(|(_, m)| *m))
    }

    /// The names of every built-in method, for messages.
    pub fn names() -> String {
        Method::ALL
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl MethodConfig {
    /// The section of `T`: typed for a built-in method, parsed from the raw section for a
    /// method defined outside selfsup. Fails if the configuration is another method's.
    pub fn settings_of<T: PretextTask>(&self) -> Result<T::Config> {
        if self.name() != T::NAME {
            return Err(TrainError::InvalidConfig {
                what: "method".into(),
                reason: format!(
                    "the configuration is for method '{}', not '{}'",
                    self.name(),
                    T::NAME
                ),
            });
        }
        if let Some(c) = self.settings().and_then(|a| a.downcast_ref::<T::Config>()) {
            return Ok(c.clone());
        }
        section_from(self.to_section(), T::NAME).map_err(|reason| TrainError::Config {
            origin: format!("[{}]", T::NAME),
            reason,
        })
    }

    /// The configuration of a method defined outside selfsup.
    pub fn custom<T: PretextTask>(settings: &T::Config) -> Self {
        MethodConfig::Custom {
            name: T::NAME.to_string(),
            section: to_table(settings),
        }
    }
}

impl Default for MethodConfig {
    fn default() -> Self {
        Method::Rotation.default_config()
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = TrainError;

    fn from_str(s: &str) -> Result<Self> {
        Method::from_name(s).ok_or_else(|| TrainError::UnknownMethod {
            name: s.to_string(),
            known: Method::names(),
        })
    }
}

methods! {
    /// Rotation prediction (RotNet, Gidaris et al. 2018).
    Rotation => crate::task::rotation::RotationTask,
    /// Jigsaw puzzles (CFN, Noroozi & Favaro 2016).
    Jigsaw => crate::task::jigsaw::JigsawTask,
    /// Context prediction (Doersch, Gupta & Efros 2015).
    ContextPrediction => crate::task::context_prediction::ContextTask,
    /// Clustering as the pretext (DeepCluster, Caron et al. 2018).
    DeepCluster => crate::task::deep_cluster::DeepClusterTask,
    /// Colorization (Zhang, Isola & Efros 2016).
    Colorization => crate::task::colorization::ColorizationTask,
    /// Inpainting with Context Encoders (Pathak et al. 2016).
    Inpainting => crate::task::inpainting::InpaintingTask,
    /// Super-resolution with SRGAN (Ledig et al. 2017).
    SuperRes => crate::task::superres::SuperResTask,
    /// Synthetic imagery with domain adaptation (Ren & Lee 2018).
    Synthetic => crate::task::synthetic::SyntheticTask,
    /// Supervised fine-tuning of a pretrained backbone on labelled images (`selfsup finetune`).
    Finetune => crate::task::finetune::FinetuneTask,
}
