//! The experiment file: a TOML document read into [`Experiment`], with every problem
//! reported by key path before anything runs. The schema is documented in docs/config.md.

pub mod data;
pub mod de;
pub mod init;
pub mod loss;
pub mod model;
pub mod optim;
pub mod training;

pub use data::{Augment, DataConfig, DataSource, Normalization};
pub use init::InitConfig;
pub use loss::LossConfig;
pub use model::{Arch, LayerSpec, ModelConfig, Pair};
pub use optim::{Interval, OptimizerConfig, SchedulerConfig};
pub use training::{EarlyStopping, OutputConfig, TrainingConfig};

use de::{as_table, de, de_tagged, internally_tagged, Problems};
use serde::Serialize;
use sinapsis::{Error, Result};
use std::path::Path;
use toml::{Table, Value};

/// A whole experiment, as read from its TOML file (see docs/config.md).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Experiment {
    /// Run name ("experiment").
    pub name: String,
    /// Seed of every random draw (data generation, splits, init, shuffling, dropout).
    pub seed: u64,
    /// `[data]`.
    pub data: DataConfig,
    /// `[model]`.
    pub model: ModelConfig,
    /// `[init]`.
    pub init: InitConfig,
    /// `[loss]`.
    pub loss: LossConfig,
    /// `[optimizer]`.
    pub optimizer: OptimizerConfig,
    /// `[scheduler]` (none by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<SchedulerConfig>,
    /// `[training]`.
    pub training: TrainingConfig,
    /// `[output]`.
    pub output: OutputConfig,
}

const TOP_KEYS: &[&str] = &[
    "name",
    "seed",
    "data",
    "model",
    "init",
    "loss",
    "optimizer",
    "scheduler",
    "training",
    "output",
];

fn config_error(origin: &str, problems: Problems) -> Error {
    let msg = if problems.0.len() == 1 {
        problems.0[0].clone()
    } else {
        format!(
            "{} problems:\n  - {}",
            problems.0.len(),
            problems.0.join("\n  - ")
        )
    };
    Error::Data {
        path: origin.to_string(),
        msg,
    }
}

impl Experiment {
    /// Reads a config file and applies `--set key=value` overrides.
    ///
    /// Errors (as `Error::Data` naming the file) on TOML syntax (with line and column),
    /// unknown keys, wrong types and bad values, all collected into one message.
    pub fn load(path: impl AsRef<Path>, overrides: &[String]) -> Result<Experiment> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Data {
            path: path.display().to_string(),
            msg: format!("cannot read the config: {e}"),
        })?;
        Experiment::from_toml_str(&text, &path.display().to_string(), overrides)
    }

    /// Parses TOML text (`origin` names it in errors) with `--set` overrides.
    ///
    /// ```
    /// use sinapsis_cli::config::Experiment;
    /// let exp = Experiment::from_toml_str(
    ///     "[data]\nsource = \"moons\"\n[model]\narch = \"mlp\"\nhidden = [8]\n[loss]\ntype = \"bce\"\n[optimizer]\ntype = \"sgd\"\nlr = 0.1\n",
    ///     "inline",
    ///     &["training.epochs=5".to_string()],
    /// )?;
    /// assert_eq!(exp.training.epochs, 5);
    /// assert_eq!(exp.data.n_samples, Some(100)); // scikit-learn's default
    /// # Ok::<(), sinapsis::Error>(())
    /// ```
    pub fn from_toml_str(text: &str, origin: &str, overrides: &[String]) -> Result<Experiment> {
        let mut table: Table = text.parse().map_err(|e: toml::de::Error| Error::Data {
            path: origin.to_string(),
            msg: syntax_message(text, &e),
        })?;
        for o in overrides {
            crate::overrides::apply(&mut table, o)?;
        }
        Experiment::from_table(table).map_err(|p| config_error(origin, p))
    }

    /// Builds the experiment from a parsed TOML table, collecting every problem.
    pub fn from_table(mut t: Table) -> std::result::Result<Experiment, Problems> {
        let mut p = Problems::default();
        for key in t.keys() {
            if !TOP_KEYS.contains(&key.as_str()) {
                p.push(format!(
                    "unknown key '{key}' (expected one of: {})",
                    TOP_KEYS.join(", ")
                ));
            }
        }
        let name = match t.remove("name") {
            None => Some("experiment".to_string()),
            Some(v) => p.take(de(v, "name")),
        };
        let seed = match t.remove("seed") {
            None => Some(0),
            Some(v) => p.take(de(v, "seed")),
        };
        let section = |t: &mut Table, key: &str| t.remove(key);
        let data = match section(&mut t, "data") {
            None => {
                p.push("[data]: missing: the data set (source = \"circles\", \"mnist\", ...)");
                None
            }
            Some(v) => p.take(de::<DataConfig>(v, "data")).map(|mut d| {
                d.resolve(&mut p);
                d
            }),
        };
        let model = match section(&mut t, "model") {
            None => {
                p.push(
                    "[model]: missing: give arch = \"mlp\" (with hidden = [...]) or layers = [...]",
                );
                None
            }
            Some(v) => p.take(parse_model(v)),
        };
        let init = match section(&mut t, "init") {
            None => Some(InitConfig::default()),
            Some(v) => p.take(de::<InitConfig>(v, "init")),
        };
        let loss = match section(&mut t, "loss") {
            None => {
                p.push("[loss]: missing: type = \"bce\", \"cross_entropy\", \"mse\", ...");
                None
            }
            Some(v) => p.take(de_tagged::<LossConfig>(v, "loss")),
        };
        let optimizer = match section(&mut t, "optimizer") {
            None => {
                p.push("[optimizer]: missing: type = \"sgd\", \"adam\", ... and lr");
                None
            }
            Some(v) => p.take(de_tagged::<OptimizerConfig>(v, "optimizer")),
        };
        let scheduler = match section(&mut t, "scheduler") {
            None => Some(None),
            Some(v) => p
                .take(de_tagged::<SchedulerConfig>(v, "scheduler"))
                .map(Some),
        };
        let training = match section(&mut t, "training") {
            None => Some(TrainingConfig::default()),
            Some(v) => p.take(de::<TrainingConfig>(v, "training")),
        };
        let output = match section(&mut t, "output") {
            None => Some(OutputConfig::default()),
            Some(v) => p.take(de::<OutputConfig>(v, "output")),
        };
        if let Some(o) = &optimizer {
            o.check(&mut p);
        }
        if let Some(t) = &training {
            t.check(&mut p);
        }
        if let Some(i) = &init {
            i.check(&mut p);
        }
        if let Some(out) = &output {
            for (i, plot) in out.plots.iter().flatten().enumerate() {
                if !training::PLOTS.contains(&plot.as_str()) {
                    p.push(format!(
                        "output.plots[{i}]: unknown plot \"{plot}\" (expected one of: {})",
                        training::PLOTS.join(", ")
                    ));
                }
            }
        }
        match (
            name, seed, data, model, init, loss, optimizer, scheduler, training, output,
        ) {
            (
                Some(name),
                Some(seed),
                Some(data),
                Some(model),
                Some(init),
                Some(loss),
                Some(optimizer),
                Some(scheduler),
                Some(training),
                Some(output),
            ) if p.is_empty() => Ok(Experiment {
                name,
                seed,
                data,
                model,
                init,
                loss,
                optimizer,
                scheduler,
                training,
                output,
            }),
            _ => Err(p),
        }
    }

    /// Checks the experiment end to end without training: describes the data (input
    /// shape, classes), infers shapes through the model and checks the loss fits the
    /// output. Every problem found is reported in one error.
    pub fn validate(&self) -> Result<()> {
        let spec = crate::build::data::describe(self)?;
        crate::build::model::plan(self, &spec).map(|_| ())
    }

    /// The fully resolved config (every default filled in) as TOML, for the run folder.
    /// Reading it back gives the same experiment.
    pub fn resolved_toml(&self) -> Result<String> {
        let err = |e: String| Error::InvalidArgument {
            op: "resolved_toml",
            msg: e,
        };
        let mut v = Value::try_from(self).map_err(|e| err(e.to_string()))?;
        if let Value::Table(t) = &mut v {
            for key in ["loss", "optimizer", "scheduler"] {
                if let Some(x) = t.remove(key) {
                    t.insert(key.into(), internally_tagged(x));
                }
            }
            if let Some(Value::Table(m)) = t.get_mut("model") {
                if let Some(Value::Array(layers)) = m.remove("layers") {
                    let layers = layers.into_iter().map(internally_tagged).collect();
                    m.insert("layers".into(), Value::Array(layers));
                }
            }
        }
        toml::to_string_pretty(&v).map_err(|e| err(e.to_string()))
    }
}

/// `[model]`: the layer list is read entry by entry (each a `type`-tagged table), the
/// rest as [`ModelConfig`].
fn parse_model(v: Value) -> std::result::Result<ModelConfig, Problems> {
    let mut t = as_table(v, "model")?;
    let layers = t.remove("layers");
    let mut p = Problems::default();
    let mut model = p
        .take(de::<ModelConfig>(Value::Table(t), "model").map_err(|e| {
            Problems(
                e.0.into_iter()
                    .map(|m| m.replace("(expected one of: ", "(expected one of: layers, "))
                    .collect(),
            )
        }))
        .unwrap_or_default();
    if let Some(layers) = layers {
        match layers {
            Value::Array(items) => {
                let mut specs = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    if let Some(s) =
                        p.take(de_tagged::<LayerSpec>(item, &format!("model.layers[{i}]")))
                    {
                        specs.push(s);
                    }
                }
                model.layers = Some(specs);
            }
            other => p.push(format!(
                "model.layers: expected an array of tables, got {}",
                de::describe(&other)
            )),
        }
    }
    match (&model.arch, &model.layers) {
        (Some(_), Some(_)) => p.push("model: give either arch or layers, not both"),
        (None, None) if p.is_empty() => {
            p.push("model: missing: arch = \"mlp\" (with hidden = [...]) or layers = [...]")
        }
        (None, Some(_)) => {
            for k in ["hidden", "activation", "dropout", "out"] {
                let set = match k {
                    "hidden" => model.hidden.is_some(),
                    "activation" => model.activation.is_some(),
                    "dropout" => model.dropout.is_some(),
                    _ => model.out.is_some(),
                };
                if set {
                    p.push(format!(
                        "model.{k}: only used with arch; with layers, write the layers out"
                    ));
                }
            }
        }
        _ => {}
    }
    if let Some(a) = &model.activation {
        if LayerSpec::activation(a).is_none() {
            p.push(format!(
                "model.activation: unknown activation \"{a}\" (expected one of: relu, leaky_relu, sigmoid, tanh, gelu, silu, elu, softplus, identity)"
            ));
        }
    }
    if let Some(d) = model.dropout {
        if !(0.0..1.0).contains(&d) {
            p.push(format!(
                "model.dropout: expected a probability in [0, 1), got {d}"
            ));
        }
    }
    if p.is_empty() {
        Ok(model)
    } else {
        Err(p)
    }
}

/// toml's syntax error as one line: `TOML syntax error at line 3, column 7: ...`.
fn syntax_message(text: &str, e: &toml::de::Error) -> String {
    let detail = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
            format!("TOML syntax error at line {line}, column {col}: {detail}")
        }
        None => format!("TOML syntax error: {detail}"),
    }
}
