//! Checkpoints: safetensors files as PyTorch writes them, bit-exact round trips, resuming
//! Adam bit for bit, corrupt files reported with their path, and crash-safe folder saves.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use sinapsis::checkpoint::{
    load_model, load_safetensors, load_safetensors_metadata, save_model, save_safetensors,
    Checkpoint, CheckpointMeta, RngState, SamplerState, FORMAT_VERSION,
};
use sinapsis::nn::{Linear, Module, ModuleExt, ReLU, Sequential};
use sinapsis::optim::lr_scheduler::SchedulerState;
use sinapsis::optim::{Adam, AdamConfig, Optimizer};
use sinapsis::{Error, Result, Tensor};

/// A fresh, empty scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sinapsis-ckpt-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn mlp() -> Sequential {
    Sequential::new()
        .add(Linear::new(2, 10).unwrap())
        .add(ReLU)
        .add(Linear::new(10, 1).unwrap())
}

/// The bit patterns of every tensor in a state dict, sorted by name (files list tensors in
/// name order, models in declaration order).
fn bits(state: &[(String, Tensor)]) -> Vec<(String, Vec<u64>)> {
    let mut out: Vec<(String, Vec<u64>)> = state
        .iter()
        .map(|(n, t)| {
            let b = match t.dtype() {
                sinapsis::DType::F32 => t
                    .to_vec::<f32>()
                    .unwrap()
                    .iter()
                    .map(|v| u64::from(v.to_bits()))
                    .collect(),
                _ => t
                    .to_vec::<f64>()
                    .unwrap()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect(),
            };
            (n.clone(), b)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn batch(step: usize) -> (Tensor, Tensor) {
    let x: Vec<f32> = (0..16)
        .map(|i| ((i * 7 + step * 3) % 11) as f32 / 5.0 - 1.0)
        .collect();
    let y: Vec<f32> = (0..8).map(|i| ((i + step) % 3) as f32 - 1.0).collect();
    (
        Tensor::from_vec(x, (8, 2)).unwrap(),
        Tensor::from_vec(y, (8, 1)).unwrap(),
    )
}

fn train_step(model: &Sequential, opt: &mut dyn Optimizer, step: usize) -> Result<()> {
    let (x, y) = batch(step);
    opt.zero_grad();
    let loss = model.forward(&x)?.sub(&y)?.square()?.mean_all()?;
    loss.backward()?;
    opt.step()
}

fn adam(model: &Sequential) -> Adam {
    Adam::new(model.named_parameters(), AdamConfig::default().lr(0.01)).unwrap()
}

fn expect_data_error<T: std::fmt::Debug>(r: Result<T>, file: &str, needles: &[&str]) -> String {
    match r {
        Err(Error::Data { path, msg }) => {
            assert!(path.ends_with(file), "path {path} should name {file}");
            for n in needles {
                assert!(msg.contains(n), "message `{msg}` should mention `{n}`");
            }
            msg
        }
        other => panic!("expected Error::Data about {file}, got {other:?}"),
    }
}

#[test]
fn model_round_trip_is_bit_exact() {
    let dir = scratch("model");
    let model = mlp();
    let path = dir.join("model.safetensors");
    save_model(&model, &path).unwrap();

    let other = mlp();
    assert_ne!(bits(&other.state_dict()), bits(&model.state_dict()));
    load_model(&other, &path, true).unwrap();
    assert_eq!(bits(&other.state_dict()), bits(&model.state_dict()));

    // Through a `dyn Module` too, and through a checkpoint folder.
    let third = mlp();
    let as_dyn: &dyn Module = &third;
    let ckpt = Checkpoint::capture(&model, None).unwrap();
    ckpt.save(&dir.join("ckpt")).unwrap();
    let back = Checkpoint::load(&dir.join("ckpt")).unwrap();
    assert!(back.optimizer.is_none());
    assert!(!dir.join("ckpt").join("optimizer.safetensors").exists());
    back.restore(as_dyn, None).unwrap();
    assert_eq!(bits(&third.state_dict()), bits(&model.state_dict()));

    // Strict loading rejects a model with other names.
    let wrong = Sequential::new().add(Linear::new(2, 10).unwrap());
    assert!(load_model(&wrong, &path, true).is_err());
    load_model(&wrong, &path, false).unwrap();
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resuming_adam_from_a_checkpoint_matches_never_stopping() {
    let dir = scratch("resume");
    let (n_first, n_total) = (4, 9);

    // Uninterrupted run.
    let reference = mlp();
    let initial = Checkpoint::capture(&reference, None).unwrap().model;
    let mut opt = adam(&reference);
    for t in 0..n_total {
        train_step(&reference, &mut opt, t).unwrap();
    }

    // Interrupted run from the same initial weights.
    let first = mlp();
    first.load_state_dict(&initial, true).unwrap();
    let mut first_opt = adam(&first);
    for t in 0..n_first {
        train_step(&first, &mut first_opt, t).unwrap();
    }
    let mut ckpt = Checkpoint::capture(&first, Some(&first_opt)).unwrap();
    ckpt.meta.epoch = 2;
    ckpt.meta.step = n_first as u64;
    ckpt.meta.rng = Some(RngState {
        seed: u64::MAX,
        word_pos: (1u128 << 100) + 12345,
    });
    ckpt.meta.sampler = Some(SamplerState { seed: 42, epoch: 2 });
    ckpt.meta.scheduler = Some(SchedulerState {
        scheduler: "StepLR".into(),
        last_epoch: 2,
        base_lrs: vec![0.01],
        last_lr: vec![0.001],
        counters: BTreeMap::new(),
    });
    ckpt.meta.metrics.insert("val_loss".into(), 0.1 + 0.2);
    ckpt.meta.metrics.insert("worst".into(), f64::INFINITY);
    ckpt.meta.model_config = Some(serde_json::json!({"hidden": 10}));
    ckpt.meta
        .extra
        .insert("note".into(), serde_json::json!("hello"));
    // Training on after the capture must not change the snapshot.
    let snapshot = bits(&ckpt.model);
    train_step(&first, &mut first_opt, 99).unwrap();
    assert_eq!(bits(&ckpt.model), snapshot);
    ckpt.save(&dir.join("ckpt")).unwrap();
    drop((first, first_opt));

    let resumed = mlp();
    let mut resumed_opt = adam(&resumed);
    let loaded = Checkpoint::load(&dir.join("ckpt")).unwrap();
    loaded.restore(&resumed, Some(&mut resumed_opt)).unwrap();
    assert_eq!(loaded.meta.epoch, 2);
    assert_eq!(loaded.meta.step, n_first as u64);
    assert_eq!(loaded.meta.rng, ckpt.meta.rng);
    assert_eq!(loaded.meta.sampler, ckpt.meta.sampler);
    assert_eq!(loaded.meta.scheduler, ckpt.meta.scheduler);
    assert_eq!(
        loaded.meta.metrics["val_loss"].to_bits(),
        (0.1f64 + 0.2).to_bits()
    );
    assert_eq!(loaded.meta.metrics["worst"], f64::INFINITY);
    assert_eq!(loaded.meta.model_config, ckpt.meta.model_config);
    assert_eq!(loaded.meta.extra, ckpt.meta.extra);
    let om = loaded.meta.optimizer.as_ref().unwrap();
    assert_eq!(om.name, "Adam");
    assert!(om.tensors.contains(&"0.weight.exp_avg".to_string()));
    let saved_opt = ckpt.optimizer.as_ref().unwrap();
    let loaded_opt = loaded.optimizer.as_ref().unwrap();
    assert_eq!(bits(&loaded_opt.tensors), bits(&saved_opt.tensors));
    assert_eq!(loaded_opt.scalars, saved_opt.scalars);
    assert_eq!(loaded_opt.groups, saved_opt.groups);

    for t in n_first..n_total {
        train_step(&resumed, &mut resumed_opt, t).unwrap();
    }
    assert_eq!(bits(&resumed.state_dict()), bits(&reference.state_dict()));
    assert_eq!(
        bits(&resumed_opt.state_dict().unwrap().tensors),
        bits(&opt.state_dict().unwrap().tensors)
    );

    // Restoring an optimizer from a checkpoint without one is an error.
    let no_opt = Checkpoint::capture(&resumed, None).unwrap();
    assert!(no_opt.restore(&resumed, Some(&mut resumed_opt)).is_err());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn safetensors_files_have_pytorch_names_dtypes_and_shapes() {
    let dir = scratch("names");
    let model = mlp();
    let path = dir.join("model.safetensors");
    save_model(&model, &path).unwrap();

    let bytes = fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(names, ["0.bias", "0.weight", "2.bias", "2.weight"]);
    let expect = [
        ("0.weight", vec![10, 2]),
        ("0.bias", vec![10]),
        ("2.weight", vec![1, 10]),
        ("2.bias", vec![1]),
    ];
    let state: BTreeMap<String, Tensor> = model.state_dict().into_iter().collect();
    for (name, shape) in expect {
        let view = st.tensor(name).unwrap();
        assert_eq!(view.dtype(), safetensors::Dtype::F32, "{name}");
        assert_eq!(view.shape(), shape.as_slice(), "{name}");
        let le: Vec<u8> = state[name]
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(
            view.data(),
            le.as_slice(),
            "{name}: little-endian row-major bytes"
        );
    }
    // The header is 8-byte aligned, as PyTorch's writer makes it.
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    assert_eq!(header_len % 8, 0);
    assert_eq!(load_safetensors_metadata(&path).unwrap()["format"], "pt");

    // Every supported dtype, a non-contiguous layout, a 0-d tensor and metadata.
    let m = Tensor::new(&[[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]]).unwrap();
    let tensors = vec![
        ("f64_t".to_string(), m.t().unwrap()),
        (
            "i64".to_string(),
            Tensor::new(&[-1i64, 0, i64::MAX]).unwrap(),
        ),
        (
            "bool".to_string(),
            Tensor::new(&[true, false, true]).unwrap(),
        ),
        ("scalar".to_string(), Tensor::scalar(2.5f32)),
    ];
    let meta: BTreeMap<String, String> = [("epoch".to_string(), "3".to_string())].into();
    let path = dir.join("mixed.safetensors");
    save_safetensors(&path, &tensors, &meta).unwrap();
    let back = load_safetensors(&path).unwrap();
    let names: Vec<&str> = back.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["bool", "f64_t", "i64", "scalar"], "sorted by name");
    assert_eq!(back[0].1.to_vec::<bool>().unwrap(), [true, false, true]);
    assert_eq!(back[1].1.dims(), &[3, 2]);
    assert_eq!(
        back[1].1.to_vec::<f64>().unwrap(),
        [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
    );
    assert_eq!(back[2].1.to_vec::<i64>().unwrap(), [-1, 0, i64::MAX]);
    assert_eq!(back[3].1.dims(), &[] as &[usize]);
    assert_eq!(back[3].1.item::<f32>().unwrap(), 2.5);
    assert_eq!(load_safetensors_metadata(&path).unwrap(), meta);
    let bytes = fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("bool").unwrap().dtype(), safetensors::Dtype::BOOL);
    assert_eq!(st.tensor("i64").unwrap().dtype(), safetensors::Dtype::I64);
    assert_eq!(st.tensor("f64_t").unwrap().dtype(), safetensors::Dtype::F64);

    // Duplicate names are refused.
    let dup = vec![tensors[0].clone(), tensors[0].clone()];
    assert!(save_safetensors(&dir.join("dup.safetensors"), &dup, &BTreeMap::new()).is_err());
    fs::remove_dir_all(&dir).unwrap();
}

/// A raw tensor of any dtype, to write files our API cannot (F16).
struct Raw(safetensors::Dtype, Vec<usize>, Vec<u8>);

impl safetensors::View for &Raw {
    fn dtype(&self) -> safetensors::Dtype {
        self.0
    }
    fn shape(&self) -> &[usize] {
        &self.1
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.2)
    }
    fn data_len(&self) -> usize {
        self.2.len()
    }
}

#[test]
fn corrupt_safetensors_files_are_data_errors_naming_the_file() {
    let dir = scratch("corrupt");
    let good = dir.join("good.safetensors");
    save_model(&mlp(), &good).unwrap();
    let bytes = fs::read(&good).unwrap();

    let truncated = dir.join("truncated.safetensors");
    fs::write(&truncated, &bytes[..bytes.len() - 5]).unwrap();
    expect_data_error(load_safetensors(&truncated), "truncated.safetensors", &[]);

    let garbage = dir.join("garbage.safetensors");
    let mut g = 16u64.to_le_bytes().to_vec();
    g.extend_from_slice(b"this is not json");
    fs::write(&garbage, &g).unwrap();
    expect_data_error(load_safetensors(&garbage), "garbage.safetensors", &[]);
    expect_data_error(
        load_safetensors_metadata(&garbage),
        "garbage.safetensors",
        &[],
    );

    let beyond = dir.join("beyond.safetensors");
    let mut b = 1_000_000u64.to_le_bytes().to_vec();
    b.extend_from_slice(&bytes[8..]);
    fs::write(&beyond, &b).unwrap();
    expect_data_error(load_safetensors(&beyond), "beyond.safetensors", &[]);

    let tiny = dir.join("tiny.safetensors");
    fs::write(&tiny, [1, 2, 3]).unwrap();
    expect_data_error(load_safetensors(&tiny), "tiny.safetensors", &[]);

    let half = dir.join("half.safetensors");
    let raw = Raw(safetensors::Dtype::F16, vec![2], vec![0, 0x3c, 0, 0x40]);
    fs::write(
        &half,
        safetensors::serialize([("encoder.weight", &raw)], None).unwrap(),
    )
    .unwrap();
    expect_data_error(
        load_safetensors(&half),
        "half.safetensors",
        &["encoder.weight", "F16", "unsupported"],
    );

    let missing = dir.join("missing.safetensors");
    expect_data_error(load_safetensors(&missing), "missing.safetensors", &[]);
    expect_data_error(
        load_model(&mlp(), &missing, true),
        "missing.safetensors",
        &[],
    );
    fs::remove_dir_all(&dir).unwrap();
}

fn saved_checkpoint(dir: &Path, epoch: u64) -> Sequential {
    let model = mlp();
    let mut opt = adam(&model);
    train_step(&model, &mut opt, 0).unwrap();
    let mut ckpt = Checkpoint::capture(&model, Some(&opt)).unwrap();
    ckpt.meta.epoch = epoch;
    ckpt.save(dir).unwrap();
    model
}

#[test]
fn corrupt_checkpoint_folders_are_data_errors_naming_the_file() {
    let root = scratch("corrupt-folder");
    let dir = root.join("ckpt");
    saved_checkpoint(&dir, 1);
    let json_path = dir.join("checkpoint.json");
    let json = fs::read_to_string(&json_path).unwrap();

    // A newer format.
    let newer = json.replace(
        &format!("\"format_version\": {FORMAT_VERSION}"),
        "\"format_version\": 99",
    );
    assert_ne!(newer, json);
    fs::write(&json_path, &newer).unwrap();
    expect_data_error(Checkpoint::load(&dir), "checkpoint.json", &["99", "newer"]);

    // JSON that does not parse: the line and column are given.
    fs::write(
        &json_path,
        "{\n  \"format_version\": 1,\n  \"epoch\": oops\n}",
    )
    .unwrap();
    expect_data_error(Checkpoint::load(&dir), "checkpoint.json", &["line 3"]);

    // A field of the wrong type.
    fs::write(
        &json_path,
        json.replace("\"epoch\": 1", "\"epoch\": \"one\""),
    )
    .unwrap();
    expect_data_error(Checkpoint::load(&dir), "checkpoint.json", &["line"]);

    // Optimizer tensors that differ from the names in the JSON.
    fs::write(&json_path, &json).unwrap();
    Checkpoint::load(&dir).unwrap();
    let opt_path = dir.join("optimizer.safetensors");
    let mut tensors = load_safetensors(&opt_path).unwrap();
    let dropped = tensors.remove(0).0;
    tensors.push(("bogus.exp_avg".into(), Tensor::scalar(1.0f32)));
    save_safetensors(&opt_path, &tensors, &BTreeMap::new()).unwrap();
    expect_data_error(
        Checkpoint::load(&dir),
        "optimizer.safetensors",
        &[dropped.as_str(), "bogus.exp_avg"],
    );

    // A missing file.
    fs::remove_file(&json_path).unwrap();
    expect_data_error(Checkpoint::load(&dir), "checkpoint.json", &[]);
    expect_data_error(Checkpoint::load(&root.join("nowhere")), "nowhere", &[]);

    // A checkpoint.json with only the version loads with defaults.
    let minimal = root.join("minimal");
    fs::create_dir_all(&minimal).unwrap();
    save_model(&mlp(), &minimal.join("model.safetensors")).unwrap();
    fs::write(minimal.join("checkpoint.json"), "{\"format_version\": 1}").unwrap();
    let loaded = Checkpoint::load(&minimal).unwrap();
    assert_eq!(loaded.meta, CheckpointMeta::default());
    assert_eq!(loaded.model.len(), 4);
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn an_interrupted_save_never_loses_the_previous_checkpoint() {
    let root = scratch("atomic");
    let dir = root.join("ckpt");
    let first = saved_checkpoint(&dir, 1);
    let first_bits = bits(&first.state_dict());

    // Killed while writing the temporary folder: it is ignored.
    let stale = root.join("ckpt.tmp-999999");
    fs::create_dir_all(&stale).unwrap();
    fs::write(stale.join("model.safetensors"), b"half-writ").unwrap();
    let loaded = Checkpoint::load(&dir).unwrap();
    assert_eq!(loaded.meta.epoch, 1);
    assert_eq!(bits(&loaded.model), first_bits);

    // Killed between the renames: only `ckpt.old` remains, and it is loaded.
    fs::rename(&dir, root.join("ckpt.old")).unwrap();
    let loaded = Checkpoint::load(&dir).unwrap();
    assert_eq!(loaded.meta.epoch, 1);
    assert_eq!(bits(&loaded.model), first_bits);

    // The next save puts a complete checkpoint in place and removes `ckpt.old`.
    let second = saved_checkpoint(&dir, 2);
    assert!(!root.join("ckpt.old").exists());
    let loaded = Checkpoint::load(&dir).unwrap();
    assert_eq!(loaded.meta.epoch, 2);
    assert_eq!(bits(&loaded.model), bits(&second.state_dict()));
    assert!(
        !root
            .join(format!("ckpt.tmp-{}", std::process::id()))
            .exists(),
        "no temporary folder left behind"
    );
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn saving_over_a_checkpoint_replaces_it_whole() {
    let root = scratch("replace");
    let dir = root.join("ckpt");
    saved_checkpoint(&dir, 1);
    assert!(dir.join("optimizer.safetensors").exists());

    let model = mlp();
    let mut ckpt = Checkpoint::capture(&model, None).unwrap();
    ckpt.meta.epoch = 5;
    ckpt.save(&dir).unwrap();
    assert!(
        !dir.join("optimizer.safetensors").exists(),
        "files of the old checkpoint do not survive"
    );
    let loaded = Checkpoint::load(&dir).unwrap();
    assert_eq!(loaded.meta.epoch, 5);
    assert!(loaded.optimizer.is_none());
    assert_eq!(bits(&loaded.model), bits(&model.state_dict()));
    let entries: Vec<String> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["ckpt"]);

    // write_atomic replaces a file and leaves no temporary behind.
    let file = root.join("notes.txt");
    sinapsis::checkpoint::write_atomic(&file, b"one").unwrap();
    sinapsis::checkpoint::write_atomic(&file, b"two").unwrap();
    assert_eq!(fs::read(&file).unwrap(), b"two");
    assert_eq!(fs::read_dir(&root).unwrap().count(), 2);
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_successful_save_removes_temporaries_of_killed_saves() {
    let root = scratch("stale");
    let dir = root.join("ckpt");
    // Left by saves killed mid-write: a folder and a file of processes that no longer run
    // (no pid reaches u32::MAX - 1), and one of a process that does (pid 1, init).
    let gone_dir = root.join("ckpt.tmp-4294967294");
    fs::create_dir_all(&gone_dir).unwrap();
    fs::write(gone_dir.join("model.safetensors"), b"half-writ").unwrap();
    let gone_file = root.join("notes.txt.tmp-4294967294");
    fs::write(&gone_file, b"half").unwrap();
    let live = root.join("ckpt.tmp-1");
    fs::create_dir_all(&live).unwrap();
    // Names that only look alike are someone else's.
    let other = root.join("ckpt.tmp-notapid");
    fs::write(&other, b"keep").unwrap();

    saved_checkpoint(&dir, 1);
    sinapsis::checkpoint::write_atomic(&root.join("notes.txt"), b"done").unwrap();

    let linux = cfg!(target_os = "linux") && Path::new("/proc/self").exists();
    assert_eq!(gone_dir.exists(), !linux, "stale folder of a gone process");
    assert_eq!(gone_file.exists(), !linux, "stale file of a gone process");
    assert!(
        live.exists(),
        "a running process's temporary is never touched"
    );
    assert!(other.exists(), "a name without a pid is not a temporary");
    assert_eq!(Checkpoint::load(&dir).unwrap().meta.epoch, 1);
    fs::remove_dir_all(&root).unwrap();
}
