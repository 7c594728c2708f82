use sinapsis_core::{Conv2dOptions, DType, Generator, Tensor};
use std::time::Instant;

fn bench(name: &str, xd: &[usize], wd: &[usize], x_grad: bool) {
    let mut g = Generator::new(0);
    let x = g.randn(xd, DType::F32).unwrap().requires_grad_(x_grad).unwrap();
    let w = g.randn(wd, DType::F32).unwrap().requires_grad_(true).unwrap();
    let b = g.randn(wd[0], DType::F32).unwrap().requires_grad_(true).unwrap();
    let opts = Conv2dOptions::default().padding(1);
    let gy = {
        let y = x.conv2d(&w, Some(&b), opts).unwrap();
        g.randn(y.dims(), DType::F32).unwrap()
    };
    let (mut fwd, mut tot) = (vec![], vec![]);
    for _ in 0..25 {
        w.zero_grad();
        b.zero_grad();
        x.zero_grad();
        let t0 = Instant::now();
        let y = x.conv2d(&w, Some(&b), opts).unwrap();
        let t1 = Instant::now();
        y.backward_with_grad(&gy).unwrap();
        let t2 = Instant::now();
        fwd.push((t1 - t0).as_secs_f64() * 1e3);
        tot.push((t2 - t0).as_secs_f64() * 1e3);
    }
    fwd.sort_by(f64::total_cmp);
    tot.sort_by(f64::total_cmp);
    println!(
        "{name}: x_grad={x_grad} forward median {:.2} ms (min {:.2}), forward+backward median {:.2} ms (min {:.2})",
        fwd[12], fwd[0], tot[12], tot[0]
    );
    let _ = Tensor::zeros(1, DType::F32);
}

fn main() {
    println!("threads {}", rayon::current_num_threads());
    bench("(128,1,28,28)*(32,1,3,3) p1", &[128, 1, 28, 28], &[32, 1, 3, 3], false);
    bench("(128,1,28,28)*(32,1,3,3) p1", &[128, 1, 28, 28], &[32, 1, 3, 3], true);
    bench("(128,32,14,14)*(64,32,3,3) p1", &[128, 32, 14, 14], &[64, 32, 3, 3], true);
    bench("(128,32,14,14)*(64,32,3,3) p1", &[128, 32, 14, 14], &[64, 32, 3, 3], false);
}
