//! `sinapsis summary`: a torchinfo-style table of the model an experiment builds.

use crate::build::model::LayerInfo;
use crate::config::Experiment;
use sinapsis::Result;

const RULE: &str =
    "==========================================================================================";

fn shape_str(s: &[usize]) -> String {
    let v: Vec<String> = std::iter::once("-1".to_string())
        .chain(s.iter().map(|d| d.to_string()))
        .collect();
    format!("[{}]", v.join(", "))
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The table for layers built on inputs of per-sample shape `input`, sizes estimated for
/// batches of `batch` float32 samples (as torchinfo does).
pub fn render(layers: &[LayerInfo], input: &[usize], batch: usize) -> String {
    let mut out = String::new();
    let row = |a: &str, b: &str, c: &str| format!("{a:<40} {b:<25} {c:>15}\n");
    out.push_str(RULE);
    out.push('\n');
    out.push_str(&row("Layer (type:depth-idx)", "Output Shape", "Param #"));
    out.push_str(RULE);
    out.push('\n');
    let last = layers
        .last()
        .map(|l| l.output_shape.clone())
        .unwrap_or_else(|| input.to_vec());
    out.push_str(&row("Sequential", &shape_str(&last), "--"));
    for (i, l) in layers.iter().enumerate() {
        let params = if l.params == 0 {
            "--".to_string()
        } else {
            thousands(l.params)
        };
        out.push_str(&row(
            &format!("├─{}: 1-{}", l.type_name, i + 1),
            &shape_str(&l.output_shape),
            &params,
        ));
    }
    let total: usize = layers.iter().map(|l| l.params).sum();
    out.push_str(RULE);
    out.push('\n');
    out.push_str(&format!(
        "Total params: {}\nTrainable params: {}\nNon-trainable params: 0\n",
        thousands(total),
        thousands(total)
    ));
    out.push_str(RULE);
    out.push('\n');
    let mb = |floats: usize| floats as f64 * 4.0 / 1e6;
    let input_mb = mb(batch * input.iter().product::<usize>());
    let fwd_mb = mb(2
        * batch
        * layers
            .iter()
            .map(|l| l.output_shape.iter().product::<usize>())
            .sum::<usize>());
    let params_mb = mb(total);
    out.push_str(&format!(
        "Input size (MB): {input_mb:.2}\nForward/backward pass size (MB): {fwd_mb:.2}\nParams size (MB): {params_mb:.2}\nEstimated Total Size (MB): {:.2}\n",
        input_mb + fwd_mb + params_mb
    ));
    out.push_str(RULE);
    out.push('\n');
    out
}

/// The summary of an experiment's model (batch size from `training.batch_size`).
pub fn summary(exp: &Experiment) -> Result<String> {
    let spec = crate::build::data::describe(exp)?;
    let (_, layers) = crate::build::model::build_for(exp, &spec)?;
    Ok(render(&layers, &spec.input_shape, exp.training.batch_size))
}

/// The summary of a config file, or of a run folder holding `config.toml`.
pub fn summary_of_path(path: &std::path::Path) -> Result<String> {
    let file = if path.is_dir() {
        path.join("config.toml")
    } else {
        path.to_path_buf()
    };
    summary(&Experiment::load(file, &[])?)
}
