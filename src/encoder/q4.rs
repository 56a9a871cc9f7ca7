//! Q4_0, the ggml 4-bit layout: 32 weights per 18-byte block, an f16 scale `d` then 16 bytes; byte
//! `j` holds weight `j` in its low nibble and weight `j + 16` in its high nibble, and a weight is
//! `(nibble - 8) * d`.
//!
//! [`PackedQ4`] keeps the nibbles as bytes in the order the matrix kernel reads them.

use super::file::{Q4_BLOCK_BYTES, QK};

/// IEEE half precision to single precision (exact; subnormals, infinities and NaN included).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h & 0x8000) as u32) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: value = man * 2^-24; normalise it.
            let mut e: i32 = -14;
            let mut m = man;
            while m & 0x400 == 0 {
                m <<= 1;
                e -= 1;
            }
            sign | (((e + 127) as u32) << 23) | ((m & 0x3ff) << 13)
        }
        (31, _) => sign | 0x7f80_0000 | (man << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

/// The scale of a block.
pub fn block_scale(block: &[u8]) -> f32 {
    f16_to_f32(u16::from_le_bytes([block[0], block[1]]))
}

/// Dequantise one 18-byte block into 32 weights.
pub fn dequantize_block(block: &[u8], out: &mut [f32]) {
    let d = block_scale(block);
    for j in 0..16 {
        let q = block[2 + j];
        out[j] = ((q & 0x0f) as i32 - 8) as f32 * d;
        out[j + 16] = ((q >> 4) as i32 - 8) as f32 * d;
    }
}

/// Dequantise a whole row of `blocks.len() / 18 * 32` weights.
pub fn dequantize_row(blocks: &[u8], out: &mut [f32]) {
    for (b, o) in blocks.chunks_exact(Q4_BLOCK_BYTES).zip(out.chunks_exact_mut(QK)) {
        dequantize_block(b, o);
    }
}

/// A Q4_0 matrix of `rows` × `cols` (rows = outputs) repacked for the kernel: rows in groups of
/// 16; for group `g` and block `b` 512 bytes, where byte `k * 64 + r * 4 + m` is the weight
/// (nibble − 8, as i8) of row `16 g + r`, column `32 b + 4 k + m`. Four consecutive columns of 16
/// rows thus sit in one 64-byte vector, the shape of a `vpdpbusd` operand.
/// `scales[(g * nb + b) * 16 + r]` is that block's scale and `corr[...]` (same index) is
/// −128 × the sum of the block's weights, which undoes the +128 that makes activations unsigned.
#[derive(Debug, Clone)]
pub struct PackedQ4 {
    pub rows: usize,
    pub cols: usize,
    pub weights: Vec<i8>,
    pub scales: Vec<f32>,
    pub corr: Vec<i32>,
}

impl PackedQ4 {
    /// Repack row-major Q4_0 blocks. `rows` must be a multiple of 16 and `cols` of 32 (the reader
    /// checks both). Returns the index of the first block whose scale is not finite as an error.
    pub fn pack(raw: &[u8], rows: usize, cols: usize) -> std::result::Result<PackedQ4, usize> {
        let nb = cols / QK;
        let mut weights = vec![0i8; rows * cols];
        let mut scales = vec![0f32; rows * nb];
        let mut corr = vec![0i32; rows * nb];
        for row in 0..rows {
            let (g, r) = (row / 16, row % 16);
            for b in 0..nb {
                let bi = row * nb + b;
                let block = &raw[bi * Q4_BLOCK_BYTES..(bi + 1) * Q4_BLOCK_BYTES];
                let d = block_scale(block);
                if !d.is_finite() {
                    return Err(bi);
                }
                let at = (g * nb + b) * 16 + r;
                scales[at] = d;
                let dst = &mut weights[(g * nb + b) * 512..(g * nb + b + 1) * 512];
                let mut sum = 0i32;
                for j in 0..16 {
                    let q = block[2 + j];
                    for (col, v) in [(j, q & 0x0f), (j + 16, q >> 4)] {
                        let w = v as i8 - 8;
                        dst[(col / 4) * 64 + r * 4 + col % 4] = w;
                        sum += w as i32;
                    }
                }
                corr[at] = -128 * sum;
            }
        }
        Ok(PackedQ4 { rows, cols, weights, scales, corr })
    }

    /// Blocks per row.
    pub fn blocks(&self) -> usize {
        self.cols / QK
    }

    /// The weight at (`row`, `col`), dequantised (for tests).
    pub fn weight(&self, row: usize, col: usize) -> f32 {
        let nb = self.blocks();
        let (g, r, b, c) = (row / 16, row % 16, col / QK, col % QK);
        let w = self.weights[(g * nb + b) * 512 + (c / 4) * 64 + r * 4 + c % 4];
        w as f32 * self.scales[(g * nb + b) * 16 + r]
    }

    /// Stack matrices with the same column count on top of each other (Q, K and V into one).
    pub fn stack(parts: &[PackedQ4]) -> PackedQ4 {
        let cols = parts[0].cols;
        assert!(parts.iter().all(|p| p.cols == cols));
        PackedQ4 {
            rows: parts.iter().map(|p| p.rows).sum(),
            cols,
            weights: parts.iter().flat_map(|p| p.weights.iter().copied()).collect(),
            scales: parts.iter().flat_map(|p| p.scales.iter().copied()).collect(),
            corr: parts.iter().flat_map(|p| p.corr.iter().copied()).collect(),
        }
    }
}
