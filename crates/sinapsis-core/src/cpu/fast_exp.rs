//! `exp` for f32 without a libm call, so that loops over it vectorise.
//!
//! NOTE: softmax-style kernels spend most of their time in `expf` (~20 cycles a call, one
//! element at a time); this version is a dozen plain arithmetic operations that the
//! compiler turns into SIMD code. Method: `exp(x) = 2^n exp(r)` with `n = round(x / ln 2)`
//! and `|r| <= ln(2) / 2` (ln 2 split in two parts so that `r` is exact), `exp(r)` by a
//! degree-7 polynomial (Cephes' minimax coefficients), `2^n` built in the exponent bits.
//! Within 2 ulp of the exact value on its range (tested against f64 `exp`).

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Below this, `exp` is under f32's smallest normal: the result is 0 (a subnormal
/// flushed, at most 1.2e-38 off).
const LO: f32 = -87.336_55;
/// Above this, the result is +inf (exp(88) = 1.65e38 is finite, exp(88.73) is not; the
/// sliver between saturates early).
const HI: f32 = 88.0;
/// 1.5 * 2^23: adding it rounds to an integer, held in the low mantissa bits.
const ROUND: f32 = 12_582_912.0;

/// `e^x` for f32 (see the module note): NaN for NaN, 0 below -87.34, +inf above 88.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    let clamped = x.clamp(LO, HI);
    let shifted = clamped * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = clamped - n * LN2_HI - n * LN2_LO;
    let p = ((((((1.987_569_1e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 0.166_666_65)
        * r
        + 0.5)
        * r
        * r)
        + r
        + 1.0;
    // 2^n: n + 127 in the exponent field; `shifted`'s low bits hold n (two's complement).
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let scale = f32::from_bits(n_bits.wrapping_add(127) << 23);
    let y = p * scale;
    if x < LO {
        0.0
    } else if x > HI {
        f32::INFINITY
    } else {
        y
    }
}

/// `v[i] = exp_f32(v[i])` for every element, in the widest SIMD this CPU has (the crate
/// is built for baseline x86-64, 4 lanes; AVX-512 does 16).
pub(crate) fn exp_in_place_f32(v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above.
            return unsafe { exp_in_place_avx512(v) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA, checked just above.
            return unsafe { exp_in_place_avx2(v) };
        }
    }
    v.iter_mut().for_each(|x| *x = exp_f32(*x));
}

/// `exp` in place for f64 (libm's; f64 is for checks, not speed).
pub(crate) fn exp_in_place_f64(v: &mut [f64]) {
    v.iter_mut().for_each(|x| *x = x.exp());
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn exp_in_place_avx512(v: &mut [f32]) {
    v.iter_mut().for_each(|x| *x = exp_f32(*x));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn exp_in_place_avx2(v: &mut [f32]) {
    v.iter_mut().for_each(|x| *x = exp_f32(*x));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(got: f32, x: f32) -> f64 {
        let want = (x as f64).exp();
        let ulp = (want as f32).abs().max(f32::MIN_POSITIVE) * f32::EPSILON;
        (got as f64 - want).abs() / ulp as f64
    }

    #[test]
    fn within_two_ulp_of_exp_and_exact_at_the_edges() {
        let mut worst = 0.0f64;
        for i in 0..=2_000_000 {
            let x = -87.0 + 175.0 * i as f32 / 2_000_000.0;
            worst = worst.max(ulps(exp_f32(x), x));
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(-1000.0), 0.0);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(89.0), f32::INFINITY);
        assert!(exp_f32(f32::NAN).is_nan());
    }

    #[test]
    fn the_simd_versions_give_the_same_bits() {
        let xs: Vec<f32> = (0..1001).map(|i| -90.0 + 0.181 * i as f32).collect();
        let mut v = xs.clone();
        exp_in_place_f32(&mut v);
        for (x, y) in xs.iter().zip(&v) {
            assert_eq!(exp_f32(*x).to_bits(), y.to_bits(), "exp({x})");
        }
    }
}
