//! Tutorial 6 with the library: the breast-cancer data (569 tumours, 30 measurements,
//! malignant or benign). A stratified 80/20 train/test split, 20% of the training part held
//! out for validation, features standardised with statistics fitted on the training rows
//! only, a 30-64-64-2 network with dropout, AdamW (decoupled weight decay), cross-entropy,
//! early stopping on the validation loss and the best epoch's weights kept in
//! `model.safetensors`. Prints the test accuracy, F1 and ROC-AUC.
//!
//! `cargo run --release -p sinapsis --example breast_cancer [-- RUN_DIR]`; the CSV is read
//! from `$SINAPSIS_DATA_DIR/tabular/breast_cancer.csv` (default `../shared/data/tabular`);
//! the run folder defaults to one in the system's temporary directory.

use std::path::PathBuf;

use sinapsis::checkpoint::load_model;
use sinapsis::data::dataset::TensorDataset;
use sinapsis::data::loader::DataLoader;
use sinapsis::data::split::{train_test_split, TestSize};
use sinapsis::data::tabular::{Header, TabularCsv};
use sinapsis::data::transforms::StandardScaler;
use sinapsis::nn::loss::CrossEntropyLoss;
use sinapsis::nn::{Dropout, Linear, ModuleExt, ReLU, Sequential};
use sinapsis::optim::{AdamW, AdamWConfig};
use sinapsis::train::{
    evaluate, EarlyStopping, EvalOptions, Mode, ModelCheckpoint, OutputKind, TrainConfig, Trainer,
};
use sinapsis::{Result, Tensor};

const SEED: u64 = 42;

fn csv_path() -> PathBuf {
    std::env::var_os("SINAPSIS_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"))
        .join("tabular/breast_cancer.csv")
}

/// Rows `idx` of `t`.
fn rows(t: &Tensor, idx: &[usize]) -> Result<Tensor> {
    let idx: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
    let n = idx.len();
    t.index_select(0, &Tensor::from_vec(idx, n)?)
}

fn main() -> Result<()> {
    let run_dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("sinapsis-breast-cancer"));
    std::fs::create_dir_all(&run_dir).map_err(|e| sinapsis::Error::Data {
        path: run_dir.display().to_string(),
        msg: e.to_string(),
    })?;
    sinapsis::manual_seed(SEED);

    // scikit-learn's file: a count row with the class names, then 30 features and the label.
    let data = TabularCsv::target_last()
        .header(Header::Sklearn)
        .load(csv_path())?;
    let labels = data.target.to_vec::<i64>()?;
    let n = labels.len();
    let (train_all, test_idx) =
        train_test_split(n, TestSize::Fraction(0.2), true, SEED, Some(&labels))?;
    let train_labels: Vec<i64> = train_all.iter().map(|&i| labels[i]).collect();
    let (fit_part, val_part) = train_test_split(
        train_all.len(),
        TestSize::Fraction(0.2),
        true,
        SEED,
        Some(&train_labels),
    )?;
    let train_idx: Vec<usize> = fit_part.iter().map(|&i| train_all[i]).collect();
    let val_idx: Vec<usize> = val_part.iter().map(|&i| train_all[i]).collect();

    // Standardise with the training rows' mean and std only: the validation and test rows
    // must not leak into the preprocessing.
    let scaler = StandardScaler::fit(&rows(&data.features, &train_idx)?)?;
    let x = scaler.transform(&data.features)?;
    let split = |idx: &[usize]| -> Result<TensorDataset> {
        TensorDataset::new(vec![rows(&x, idx)?, rows(&data.target, idx)?])
    };
    let train = DataLoader::new(split(&train_idx)?, 32)?
        .shuffle(true)
        .seed(SEED);
    let val = DataLoader::new(split(&val_idx)?, 256)?;
    let test = DataLoader::new(split(&test_idx)?, 256)?;
    println!(
        "{} training, {} validation, {} test rows",
        train_idx.len(),
        val_idx.len(),
        test_idx.len()
    );

    let model = Sequential::new()
        .add(Linear::new(30, 64)?)
        .add(ReLU)
        .add(Dropout::new(0.2)?)
        .add(Linear::new(64, 64)?)
        .add(ReLU)
        .add(Dropout::new(0.2)?)
        .add(Linear::new(64, 2)?);
    println!("{}", model.repr());
    let mut opt = AdamW::new(
        model.named_parameters(),
        AdamWConfig {
            lr: 1e-3,
            weight_decay: 1e-2,
            ..Default::default()
        },
    )?;
    let ce = CrossEntropyLoss::new();
    let loss = |o: &Tensor, t: &Tensor| ce.forward(o, t);
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 100,
        handle_ctrl_c: true,
        ..Default::default()
    })
    .callback(EarlyStopping::new("val_loss").patience(10))
    .callback(ModelCheckpoint::new(&run_dir).best("val_loss", Mode::Min));
    let history = trainer.fit(&model, &loss, &mut opt, None, &train, Some(&val))?;
    let best = history
        .epochs
        .iter()
        .min_by(|a, b| {
            a.val_loss
                .unwrap_or(f64::MAX)
                .total_cmp(&b.val_loss.unwrap_or(f64::MAX))
        })
        .map(|e| e.epoch)
        .unwrap_or(0);
    println!("{}; best val_loss at epoch {best}", history.stop);

    // Evaluate the best epoch's weights, as saved.
    load_model(&model, &run_dir.join("model.safetensors"), true)?;
    let eval = evaluate(
        &model,
        &loss,
        &test,
        &EvalOptions {
            output: OutputKind::Logits,
            class_names: data.encoder.classes().map(<[String]>::to_vec),
            ..Default::default()
        },
    )?;
    println!(
        "\ntest accuracy {:.2}%",
        100.0 * eval.accuracy.unwrap_or(0.0)
    );
    if let Some(report) = &eval.report {
        println!("macro F1 {:.4}", report.macro_avg.f1);
    }
    if let Some(auc) = eval.roc_auc {
        println!("ROC-AUC {auc:.4}");
    }
    if let Some(report) = &eval.report {
        print!("\n{report}");
    }
    println!("\nrun folder: {}", run_dir.display());
    Ok(())
}
