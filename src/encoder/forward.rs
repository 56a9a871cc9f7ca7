//! The BERT / XLM-R encoder forward pass (post-layer-norm) over a batch of token sequences.
//!
//! All sequences of a batch are concatenated into one `[tokens × hidden]` matrix so that every
//! weight matrix is read once per batch; attention runs inside each sequence only (no padding, so
//! no attention mask is needed). The result per sequence is the mean of its final hidden states
//! over all its tokens, `<s>` and `</s>` included (the attention mask is all ones), not yet
//! normalised.

use super::file::{Config, ModelFile, Q4_BLOCK_BYTES, QK};
use super::kernel::{self, Kernel, QuantActs};
use super::q4::{self, PackedQ4};
use crate::error::{Error, Result};

pub struct Layer {
    /// Query, key and value stacked: `[3·hidden × hidden]`.
    qkv: PackedQ4,
    qkv_b: Vec<f32>,
    ao: PackedQ4,
    ao_b: Vec<f32>,
    aln_w: Vec<f32>,
    aln_b: Vec<f32>,
    fi: PackedQ4,
    fi_b: Vec<f32>,
    fo: PackedQ4,
    fo_b: Vec<f32>,
    oln_w: Vec<f32>,
    oln_b: Vec<f32>,
}

pub struct Weights {
    pub config: Config,
    /// Word embeddings, still Q4_0 (rows are dequantised when looked up).
    word: Vec<u8>,
    pos: Vec<f32>,
    /// Token type 0 (the only one a single sequence uses).
    type0: Vec<f32>,
    eln_w: Vec<f32>,
    eln_b: Vec<f32>,
    layers: Vec<Layer>,
}

impl Weights {
    /// Take the weights out of a parsed model file.
    pub fn from_file(m: &ModelFile, data: &[u8]) -> Result<Weights> {
        let c = m.config;
        let (h, ff) = (c.hidden, c.feed_forward);
        let packed = |name: &str, rows: usize, cols: usize| -> Result<PackedQ4> {
            let raw = m.q4(data, name, rows, cols)?;
            PackedQ4::pack(raw, rows, cols).map_err(|block| {
                let t = m.tensor(name, super::file::DType::Q4_0, (rows * cols) as u64).expect("checked above");
                Error::new(
                    &m.file,
                    Some(format!("byte {}", t.offset as usize + block * Q4_BLOCK_BYTES)),
                    format!("tensor {name}: block {block} has a non-finite scale"),
                )
            })
        };
        let mut layers = Vec::with_capacity(c.layers);
        for l in 0..c.layers {
            let n = |part: &str| format!("l{l}.{part}");
            let qkv = PackedQ4::stack(&[packed(&n("q.w"), h, h)?, packed(&n("k.w"), h, h)?, packed(&n("v.w"), h, h)?]);
            let mut qkv_b = m.f32s(data, &n("q.b"), h)?;
            qkv_b.extend(m.f32s(data, &n("k.b"), h)?);
            qkv_b.extend(m.f32s(data, &n("v.b"), h)?);
            layers.push(Layer {
                qkv,
                qkv_b,
                ao: packed(&n("ao.w"), h, h)?,
                ao_b: m.f32s(data, &n("ao.b"), h)?,
                aln_w: m.f32s(data, &n("aln.w"), h)?,
                aln_b: m.f32s(data, &n("aln.b"), h)?,
                fi: packed(&n("fi.w"), ff, h)?,
                fi_b: m.f32s(data, &n("fi.b"), ff)?,
                fo: packed(&n("fo.w"), h, ff)?,
                fo_b: m.f32s(data, &n("fo.b"), h)?,
                oln_w: m.f32s(data, &n("oln.w"), h)?,
                oln_b: m.f32s(data, &n("oln.b"), h)?,
            });
        }
        let word = m.q4(data, "emb.word", c.vocab_rows, h)?.to_vec();
        // A non-finite scale in a word row would poison every text that uses the token.
        if let Some(block) = word
            .chunks_exact(Q4_BLOCK_BYTES)
            .position(|b| !q4::f16_to_f32(u16::from_le_bytes([b[0], b[1]])).is_finite())
        {
            let t = m.tensor("emb.word", super::file::DType::Q4_0, (c.vocab_rows * h) as u64)?;
            return Err(Error::new(
                &m.file,
                Some(format!("byte {}", t.offset as usize + block * Q4_BLOCK_BYTES)),
                format!("tensor emb.word: block {block} has a non-finite scale"),
            ));
        }
        let types = m.f32s(data, "emb.type", c.type_vocab * h)?;
        Ok(Weights {
            config: c,
            word,
            pos: m.f32s(data, "emb.pos", c.max_positions * h)?,
            type0: types[..h].to_vec(),
            eln_w: m.f32s(data, "emb.ln.w", h)?,
            eln_b: m.f32s(data, "emb.ln.b", h)?,
            layers,
        })
    }

    /// The dequantised word embedding of token `id` (for tests and checks).
    pub fn word_row(&self, id: usize, out: &mut [f32]) {
        let h = self.config.hidden;
        let bytes = h / QK * Q4_BLOCK_BYTES;
        q4::dequantize_row(&self.word[id * bytes..(id + 1) * bytes], out);
    }
}

/// Run the encoder over `seqs` (token ids, `<s>` and `</s>` included, each at most
/// `max_positions` long and every id below `vocab_rows`) and return one mean-pooled, not
/// normalised, vector per sequence.
pub fn forward(w: &Weights, kernel: Kernel, seqs: &[&[u32]]) -> Vec<Vec<f32>> {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the kernel is only `Avx512Vnni` when the CPU has these features.
        Kernel::Avx512Vnni => unsafe { forward_avx512(w, seqs) },
        _ => forward_impl::<false>(w, Kernel::Portable, seqs),
    }
}

/// The same code compiled with AVX-512 enabled, so the element-wise loops vectorise 16 wide.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma")]
unsafe fn forward_avx512(w: &Weights, seqs: &[&[u32]]) -> Vec<Vec<f32>> {
    forward_impl::<true>(w, Kernel::Avx512Vnni, seqs)
}

#[inline(always)]
fn forward_impl<const FMA: bool>(w: &Weights, kernel: Kernel, seqs: &[&[u32]]) -> Vec<Vec<f32>> {
    let c = &w.config;
    let (h, ff, nh) = (c.hidden, c.feed_forward, c.heads);
    let hd = h / nh;
    let mut starts = Vec::with_capacity(seqs.len() + 1);
    starts.push(0usize);
    for s in seqs {
        assert!(s.len() <= c.max_positions, "sequence longer than the model's positions");
        starts.push(starts.last().unwrap() + s.len());
    }
    let tokens = *starts.last().unwrap();

    // Embeddings: word + position + type 0, then layer norm.
    let mut x = vec![0f32; tokens * h];
    let row_bytes = h / QK * Q4_BLOCK_BYTES;
    for (si, s) in seqs.iter().enumerate() {
        for (p, &id) in s.iter().enumerate() {
            let id = id as usize;
            assert!(id < c.vocab_rows, "token id {id} outside the vocabulary");
            let row = &mut x[(starts[si] + p) * h..(starts[si] + p + 1) * h];
            q4::dequantize_row(&w.word[id * row_bytes..(id + 1) * row_bytes], row);
            for ((r, &pv), &tv) in row.iter_mut().zip(&w.pos[p * h..(p + 1) * h]).zip(&w.type0) {
                *r += pv + tv;
            }
        }
    }
    kernel::add_layer_norm(&mut x, None, &w.eln_w, &w.eln_b, c.eps);

    let mut qa = QuantActs::default();
    let mut qkv = vec![0f32; tokens * 3 * h];
    let mut ctx = vec![0f32; tokens * h];
    let mut tmp = vec![0f32; tokens * h];
    let mut mid = vec![0f32; tokens * ff];
    let (mut kt, mut probs) = (Vec::new(), Vec::new());
    for layer in &w.layers {
        qa.quantize(&x, tokens, h);
        kernel::matmul(kernel, &layer.qkv, &layer.qkv_b, &qa, &mut qkv);
        // Scaled dot-product attention within each sequence.
        for si in 0..seqs.len() {
            let (s0, s1) = (starts[si], starts[si + 1]);
            let rows = &qkv[s0 * 3 * h..s1 * 3 * h];
            let out = &mut ctx[s0 * h..s1 * h];
            for head in 0..nh {
                let (q, k, v) = (head * hd, h + head * hd, 2 * h + head * hd);
                match hd {
                    32 => kernel::attention_head::<32, FMA>(
                        rows,
                        3 * h,
                        (q, k, v),
                        s1 - s0,
                        &mut out[q..],
                        h,
                        &mut kt,
                        &mut probs,
                    ),
                    64 => kernel::attention_head::<64, FMA>(
                        rows,
                        3 * h,
                        (q, k, v),
                        s1 - s0,
                        &mut out[q..],
                        h,
                        &mut kt,
                        &mut probs,
                    ),
                    _ => attention_any(rows, 3 * h, hd, (q, k, v), s1 - s0, &mut out[q..], h, &mut probs),
                }
            }
        }
        qa.quantize(&ctx, tokens, h);
        kernel::matmul(kernel, &layer.ao, &layer.ao_b, &qa, &mut tmp);
        kernel::add_layer_norm(&mut x, Some(&tmp), &layer.aln_w, &layer.aln_b, c.eps);

        qa.quantize(&x, tokens, h);
        kernel::matmul(kernel, &layer.fi, &layer.fi_b, &qa, &mut mid);
        for v in &mut mid {
            *v = kernel::gelu(*v);
        }
        qa.quantize(&mid, tokens, ff);
        kernel::matmul(kernel, &layer.fo, &layer.fo_b, &qa, &mut tmp);
        kernel::add_layer_norm(&mut x, Some(&tmp), &layer.oln_w, &layer.oln_b, c.eps);
    }

    // Mean pooling per sequence.
    (0..seqs.len())
        .map(|si| {
            let (s0, s1) = (starts[si], starts[si + 1]);
            let mut o = vec![0f32; h];
            for t in s0..s1 {
                for (a, &v) in o.iter_mut().zip(&x[t * h..(t + 1) * h]) {
                    *a += v;
                }
            }
            let inv = 1.0 / (s1 - s0).max(1) as f32;
            o.iter_mut().for_each(|v| *v *= inv);
            o
        })
        .collect()
}

/// Attention for a head size other than 32 or 64 (plain loops).
#[allow(clippy::too_many_arguments)]
fn attention_any(
    qkv: &[f32],
    stride: usize,
    hd: usize,
    (q_off, k_off, v_off): (usize, usize, usize),
    len: usize,
    out: &mut [f32],
    out_stride: usize,
    probs: &mut Vec<f32>,
) {
    let scale = 1.0 / (hd as f32).sqrt();
    probs.resize(len, 0.0);
    for t in 0..len {
        let q = &qkv[t * stride + q_off..][..hd];
        for (s, p) in probs.iter_mut().enumerate() {
            *p = kernel::dot(q, &qkv[s * stride + k_off..][..hd]) * scale;
        }
        let mx = kernel::max(probs);
        probs.iter_mut().for_each(|p| *p = kernel::exp(*p - mx));
        let inv = 1.0 / kernel::sum(probs);
        let o = &mut out[t * out_stride..][..hd];
        o.fill(0.0);
        for (s, &p) in probs.iter().enumerate() {
            for (a, &v) in o.iter_mut().zip(&qkv[s * stride + v_off..][..hd]) {
                *a += p * inv * v;
            }
        }
    }
}
