//! `nn` modules against PyTorch: the seven models of `fixtures/modules.json` (printed form,
//! state_dict names and shapes, parameter counts), initialiser statistics, state_dict
//! loading, modes, freezing and container surgery.

mod common;

use serde_json::Value;
use sinapsis::nn::init::{self, FanMode};
use sinapsis::nn::*;
use sinapsis::{Conv2dOptions, DType, Result, Tensor};

struct NeuralNetwork {
    layer_1: Linear,
    layer_2: Linear,
}
impl Module for NeuralNetwork {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.layer_2
            .forward(&self.layer_1.forward(x)?.relu()?)?
            .sigmoid()
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![
            ("layer_1".into(), &self.layer_1),
            ("layer_2".into(), &self.layer_2),
        ]
    }
}

struct Classifier {
    input_layer: Linear,
    hidden_layer: Linear,
    output_layer: Linear,
    activation: ReLU,
}
impl Module for Classifier {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.activation.forward(&self.input_layer.forward(x)?)?;
        let h = self.activation.forward(&self.hidden_layer.forward(&h)?)?;
        self.output_layer.forward(&h)
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![
            ("input_layer".into(), &self.input_layer),
            ("hidden_layer".into(), &self.hidden_layer),
            ("output_layer".into(), &self.output_layer),
            ("activation".into(), &self.activation),
        ]
    }
}

struct Residual {
    fc1: Linear,
    relu: ReLU,
    fc2: Linear,
}
impl Module for Residual {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        // fc2(x + relu(fc1(x))) needs fc1: d -> d; the fixture's sizes differ, so the
        // residual adds after fc1 here.
        let h = self.relu.forward(&self.fc1.forward(x)?)?;
        self.fc2.forward(&h.add(&h)?)
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![
            ("fc1".into(), &self.fc1),
            ("relu".into(), &self.relu),
            ("fc2".into(), &self.fc2),
        ]
    }
}

fn model(name: &str) -> Box<dyn Module> {
    let l = |i, o| Linear::new(i, o).unwrap();
    match name {
        "seq_784_100_10" => Box::new(Sequential::new().add(l(784, 100)).add(ReLU).add(l(100, 10))),
        "mlp_2_64_64_2" => Box::new(
            Sequential::new()
                .add(l(2, 64))
                .add(ReLU)
                .add(l(64, 64))
                .add(ReLU)
                .add(l(64, 2)),
        ),
        "named_circles" => Box::new(NeuralNetwork {
            layer_1: l(2, 10),
            layer_2: l(10, 1),
        }),
        "named_classifier" => Box::new(Classifier {
            input_layer: l(784, 100),
            hidden_layer: l(100, 50),
            output_layer: l(50, 10),
            activation: ReLU,
        }),
        "named_residual" => Box::new(Residual {
            fc1: l(784, 100),
            relu: ReLU,
            fc2: l(100, 10),
        }),
        "cnn_mnist" => {
            let pad = Conv2dOptions::default().padding(1);
            Box::new(
                Sequential::new()
                    .add(Conv2d::new(1, 32, 3, pad).unwrap())
                    .add(ReLU)
                    .add(MaxPool2d::new(2))
                    .add(Conv2d::new(32, 64, 3, pad).unwrap())
                    .add(ReLU)
                    .add(MaxPool2d::new(2))
                    .add(Flatten::default())
                    .add(l(3136, 128))
                    .add(ReLU)
                    .add(Dropout::new(0.25).unwrap())
                    .add(l(128, 10)),
            )
        }
        "tabular_bn_dropout" => Box::new(
            Sequential::new()
                .add(l(30, 64))
                .add(BatchNorm1d::new(64).unwrap())
                .add(ReLU)
                .add(Dropout::new(0.2).unwrap())
                .add(l(64, 2)),
        ),
        other => panic!("no model for {other}"),
    }
}

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/modules.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_fixture_model_matches_pytorch_names_shapes_counts_and_repr() {
    let _rng = common::default_generator();
    let fx = fixture();
    let models = fx["models"].as_object().unwrap();
    assert_eq!(models.len(), 7);
    for (name, want) in models {
        let m = model(name);
        assert_eq!(m.repr(), want["repr"].as_str().unwrap(), "{name}: repr");
        let sd: Vec<(String, Vec<usize>)> = m
            .state_dict()
            .into_iter()
            .map(|(k, t)| (k, t.dims().to_vec()))
            .collect();
        let want_sd: Vec<(String, Vec<usize>)> = want["state_dict"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let dims = e[1]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap() as usize)
                    .collect();
                (e[0].as_str().unwrap().to_string(), dims)
            })
            .collect();
        assert_eq!(sd, want_sd, "{name}: state_dict");
        let params: Vec<String> = m.named_parameters().into_iter().map(|(k, _)| k).collect();
        let want_params: Vec<String> = want["named_parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(params, want_params, "{name}: named_parameters");
        assert_eq!(
            m.num_parameters() as u64,
            want["num_parameters"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            m.num_trainable_parameters() as u64,
            want["num_trainable"].as_u64().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn calculate_gain_matches_pytorch() {
    let _rng = common::default_generator();
    let fx = fixture();
    let g = &fx["init"]["calculate_gain"];
    let close = |a: f64, b: &Value| assert!((a - b.as_f64().unwrap()).abs() < 1e-12, "{a} vs {b}");
    close(init::calculate_gain("linear", None).unwrap(), &g["linear"]);
    close(
        init::calculate_gain("sigmoid", None).unwrap(),
        &g["sigmoid"],
    );
    close(init::calculate_gain("tanh", None).unwrap(), &g["tanh"]);
    close(init::calculate_gain("relu", None).unwrap(), &g["relu"]);
    close(
        init::calculate_gain("leaky_relu", Some(0.01)).unwrap(),
        &g["leaky_relu_0.01"],
    );
    close(
        init::calculate_gain("leaky_relu", Some(5f64.sqrt())).unwrap(),
        &g["leaky_relu_sqrt5"],
    );
    close(init::calculate_gain("selu", None).unwrap(), &g["selu"]);
    assert!(init::calculate_gain("swish", None).is_err());
}

fn stats(t: &Tensor) -> (f64, f64, f64, f64) {
    let v = t.to_f64_vec().unwrap();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let min = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    (mean, var.sqrt(), min, max)
}

#[test]
fn initialisers_have_the_right_bounds_and_moments() {
    let _rng = common::default_generator();
    sinapsis::manual_seed(7);
    let w = Tensor::zeros((400, 500), DType::F32).unwrap(); // fan_in 500, fan_out 400
    let (fi, fo) = (500.0f64, 400.0f64);
    // Uniform(-b, b) has std b / sqrt(3).
    let check_uniform = |w: &Tensor, b: f64| {
        let (mean, std, min, max) = stats(w);
        assert!(min >= -b && max <= b, "bounds {min} {max} vs {b}");
        assert!(mean.abs() < 0.01 * b, "mean {mean}");
        assert!((std - b / 3f64.sqrt()).abs() < 0.01 * b, "std {std}");
    };
    let check_normal = |w: &Tensor, s: f64| {
        let (mean, std, _, _) = stats(w);
        assert!(
            mean.abs() < 0.01 * s && (std - s).abs() < 0.01 * s,
            "mean {mean} std {std} vs {s}"
        );
    };
    init::xavier_uniform_(&w, 1.0).unwrap();
    check_uniform(&w, (6.0 / (fi + fo)).sqrt());
    init::xavier_normal_(&w, 2.0).unwrap();
    check_normal(&w, 2.0 * (2.0 / (fi + fo)).sqrt());
    init::kaiming_uniform_(&w, 0.0, FanMode::FanIn, "relu").unwrap();
    check_uniform(&w, 2f64.sqrt() * (3.0 / fi).sqrt());
    init::kaiming_normal_(&w, 0.0, FanMode::FanOut, "relu").unwrap();
    check_normal(&w, 2f64.sqrt() / fo.sqrt());
    init::uniform_(&w, -0.3, 0.3).unwrap();
    check_uniform(&w, 0.3);
    init::normal_(&w, 0.0, 0.02).unwrap();
    check_normal(&w, 0.02);
    init::constant_(&w, 0.5).unwrap();
    assert_eq!(stats(&w), (0.5, 0.0, 0.5, 0.5));
    // Linear's default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
    let fc = Linear::new(500, 400).unwrap();
    check_uniform(&fc.weight, 1.0 / fi.sqrt());
    let (_, _, bmin, bmax) = stats(fc.bias.as_ref().unwrap());
    assert!(bmin >= -1.0 / fi.sqrt() && bmax <= 1.0 / fi.sqrt());
    // Orthogonal: W W^T = gain^2 I for a wide matrix.
    let q = Tensor::zeros((30, 50), DType::F64).unwrap();
    init::orthogonal_(&q, 2.0).unwrap();
    let wwt = q.matmul(&q.t().unwrap()).unwrap().to_vec2::<f64>().unwrap();
    for (i, row) in wwt.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let want = if i == j { 4.0 } else { 0.0 };
            assert!((v - want).abs() < 1e-9, "({i},{j}) = {v}");
        }
    }
    // Same seed, same numbers.
    sinapsis::manual_seed(3);
    let a = Linear::new(5, 4).unwrap().weight.to_vec::<f32>().unwrap();
    sinapsis::manual_seed(3);
    let b = Linear::new(5, 4).unwrap().weight.to_vec::<f32>().unwrap();
    assert_eq!(a, b);
    assert!(init::xavier_uniform_(&Tensor::zeros(5, DType::F32).unwrap(), 1.0).is_err());
}

#[test]
fn strict_loading_reports_every_problem_at_once() {
    let _rng = common::default_generator();
    let m = Sequential::new()
        .add(Linear::new(3, 4).unwrap())
        .add(ReLU)
        .add(Linear::new(4, 2).unwrap());
    let other = Sequential::new()
        .add(Linear::new(3, 4).unwrap())
        .add(ReLU)
        .add(Linear::new(4, 2).unwrap());
    m.load_state_dict(&other.state_dict(), true).unwrap();
    assert_eq!(
        m.parameters()[0].to_vec::<f32>().unwrap(),
        other.parameters()[0].to_vec::<f32>().unwrap()
    );

    let mut bad = other.state_dict();
    bad.retain(|(k, _)| k != "2.bias");
    bad.push(("3.weight".into(), Tensor::zeros(1, DType::F32).unwrap()));
    bad[0].1 = Tensor::zeros((5, 3), DType::F32).unwrap();
    let before = m.parameters()[1].to_vec::<f32>().unwrap();
    let e = m.load_state_dict(&bad, true).unwrap_err().to_string();
    assert!(e.contains("missing keys: 2.bias"), "{e}");
    assert!(e.contains("unexpected keys: 3.weight"), "{e}");
    assert!(
        e.contains("0.weight: checkpoint has shape (5x3), the model has (4x3)"),
        "{e}"
    );
    assert_eq!(
        m.parameters()[1].to_vec::<f32>().unwrap(),
        before,
        "nothing loaded on error"
    );
    // Non-strict ignores missing and unexpected keys but not shape mismatches.
    bad[0].1 = Tensor::zeros((4, 3), DType::F32).unwrap();
    m.load_state_dict(&bad, false).unwrap();
    assert_eq!(m.parameters()[0].to_vec::<f32>().unwrap(), vec![0.0; 12]);
}

#[test]
fn train_eval_modes_reach_every_layer() {
    let _rng = common::default_generator();
    sinapsis::manual_seed(0);
    let m = Sequential::new()
        .add(Linear::new(8, 8).unwrap())
        .add(Dropout::new(0.5).unwrap());
    let x = Tensor::ones((16, 8), DType::F32).unwrap();
    m.eval();
    assert!(!m.get(1).unwrap().is_training());
    let a = m.forward(&x).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(
        a,
        m.forward(&x).unwrap().to_vec::<f32>().unwrap(),
        "deterministic in eval"
    );
    m.train();
    let d = Dropout::new(0.5).unwrap();
    let y = d
        .forward(&Tensor::ones((100, 100), DType::F32).unwrap())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let kept = y.iter().filter(|&&v| v != 0.0).count();
    assert!((4500..5500).contains(&kept), "kept {kept}");
    assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
    assert!(Dropout::new(1.5).is_err());

    // BatchNorm: batch statistics in training (and running stats updated), running stats in eval.
    let bn = BatchNorm1d::new(2).unwrap();
    let x = Tensor::new(&[[1.0f32, 10.0], [3.0, 30.0]]).unwrap();
    bn.forward(&x).unwrap();
    assert_eq!(bn.running_mean().to_vec::<f32>().unwrap(), vec![0.2, 2.0]);
    assert_eq!(bn.state_dict()[4].1.item::<i64>().unwrap(), 1);
    bn.eval();
    let y = bn.forward(&x).unwrap().to_vec::<f32>().unwrap();
    let rv = bn.running_var().to_vec::<f32>().unwrap();
    let want = (1.0 - 0.2) / (rv[0] + 1e-5).sqrt();
    assert!((y[0] - want).abs() < 1e-5);
    assert!(bn
        .forward(&Tensor::zeros((2, 3), DType::F32).unwrap())
        .is_err());
}

#[test]
fn freezing_and_transfer_learning() {
    let _rng = common::default_generator();
    // Freeze a pretrained body, swap the head for a new Linear(100, 1), as the tutorials do.
    let mut model = Sequential::new()
        .add(Linear::new(784, 100).unwrap())
        .add(ReLU)
        .add(Linear::new(100, 10).unwrap());
    model.requires_grad_(false).unwrap();
    model.set(2, Linear::new(100, 1).unwrap()).unwrap();
    assert_eq!(model.num_trainable_parameters(), 101);
    assert_eq!(model.num_parameters(), 78500 + 101);
    let y = model
        .forward(&Tensor::ones((4, 784), DType::F32).unwrap())
        .unwrap();
    y.sum_all().unwrap().backward().unwrap();
    let p = model.parameters();
    assert!(p[0].grad().is_none() && p[2].grad().is_some());

    // A body without its head, sharing the same layers: model.children()[:-1].
    let body = model.slice(0..2).unwrap();
    assert_eq!(body.len(), 2);
    assert!(body.parameters()[0].shares_storage(&model.parameters()[0]));
    assert_eq!(
        body.forward(&Tensor::ones((4, 784), DType::F32).unwrap())
            .unwrap()
            .dims(),
        &[4, 100]
    );
    assert!(model.set(7, Identity).is_err());
    assert!(model.slice(1..9).is_err());
}

#[test]
fn layers_forward_shapes_and_errors() {
    let _rng = common::default_generator();
    let x = Tensor::ones((2, 5), DType::F32).unwrap();
    assert!(Linear::new(4, 3).unwrap().forward(&x).is_err());
    let e = Linear::new(4, 3)
        .unwrap()
        .forward(&x)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Linear") && e.contains("(2x5)"), "{e}");
    for (m, dims) in [
        (Box::new(GELU::default()) as Box<dyn Module>, vec![2, 5]),
        (Box::new(LeakyReLU::default()), vec![2, 5]),
        (Box::new(ELU::default()), vec![2, 5]),
        (Box::new(Softplus::default()), vec![2, 5]),
        (Box::new(Softmax { dim: 1 }), vec![2, 5]),
        (Box::new(LogSoftmax { dim: 1 }), vec![2, 5]),
        (Box::new(Tanh), vec![2, 5]),
        (Box::new(Sigmoid), vec![2, 5]),
        (Box::new(SiLU), vec![2, 5]),
        (Box::new(Identity), vec![2, 5]),
        (Box::new(LayerNorm::new(&[5]).unwrap()), vec![2, 5]),
    ] {
        assert_eq!(
            m.forward(&x).unwrap().dims(),
            dims.as_slice(),
            "{}",
            m.repr()
        );
    }
    assert_eq!(
        LeakyReLU::default().repr(),
        "LeakyReLU(negative_slope=0.01)"
    );
    assert_eq!(GELU::default().repr(), "GELU(approximate='none')");
    assert_eq!(
        LayerNorm::new(&[6]).unwrap().repr(),
        "LayerNorm((6,), eps=1e-05, elementwise_affine=True)"
    );
    let img = Tensor::ones((2, 3, 8, 8), DType::F32).unwrap();
    assert_eq!(
        AvgPool2d::new(2).forward(&img).unwrap().dims(),
        &[2, 3, 4, 4]
    );
    assert_eq!(
        AdaptiveAvgPool2d::new(1).forward(&img).unwrap().dims(),
        &[2, 3, 1, 1]
    );
    assert_eq!(
        BatchNorm2d::new(3).unwrap().forward(&img).unwrap().dims(),
        &[2, 3, 8, 8]
    );
    assert_eq!(
        Dropout2d::new(0.5).unwrap().forward(&img).unwrap().dims(),
        &[2, 3, 8, 8]
    );
    let emb = Embedding::new(10, 4).unwrap();
    assert!(emb.forward(&x).is_err());
    assert!(ModuleList::new().forward(&x).is_err());
}

#[test]
fn sequential_fuses_linear_relu_with_the_same_values_and_gradients() {
    let _rng = common::default_generator();
    // Linear-ReLU pairs run as one op inside Sequential; a ReLU after anything else, a
    // trailing Linear, and the same layers called one by one give the same numbers.
    let net = Sequential::new()
        .add(Linear::new(6, 8).unwrap())
        .add(ReLU)
        .add(Linear::new(8, 5).unwrap())
        .add(ReLU)
        .add(Tanh)
        .add(ReLU)
        .add(Linear::new(5, 3).unwrap());
    let x = Tensor::randn([7, 6], DType::F32).unwrap();
    let weights = Tensor::randn([7, 3], DType::F32).unwrap();
    let run = |fused: bool| -> Vec<Vec<f32>> {
        net.zero_grad();
        let y = if fused {
            net.forward(&x).unwrap()
        } else {
            net.iter()
                .try_fold(x.clone(), |h, layer| layer.forward(&h))
                .unwrap()
        };
        y.mul(&weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let mut out = vec![y.to_vec::<f32>().unwrap()];
        for p in net.parameters() {
            out.push(p.grad().unwrap().to_vec::<f32>().unwrap());
        }
        out
    };
    assert_eq!(run(true), run(false));
    // A Linear whose input does not fit still says so through the fused path.
    let e = net
        .forward(&Tensor::zeros([2, 4], DType::F32).unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("in_features=6"), "{e}");
}
