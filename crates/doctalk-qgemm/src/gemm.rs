//! The matrix product: column groups shared out across rayon's threads, each thread walking its
//! groups in cache-sized chunks and, within a chunk, every row tile, so a chunk's weights are read
//! from memory once per product instead of once per row tile. For a prompt, a chunk's four- and
//! five-bit weights are first unpacked to a byte each, so the row tiles multiply without unpacking.

use rayon::prelude::*;

use crate::kernels::{self, Tile};
use crate::pack::{block_bytes, GROUP};
use crate::{Isa, PackedMatrix, QgemmError, QuantizedRows, Result};

/// Weight bytes a thread keeps hot while it walks the row tiles (half a typical 512 KiB–1 MiB L2).
const CHUNK_BYTES: usize = 256 << 10;

/// Activation rows from which a product unpacks each group's four- and five-bit weights into bytes
/// once per chunk, instead of in every row tile (where [`Isa::expands_prompt_weights`]): four row
/// tiles or more share each unpacking, and a decoded token (one row) still streams the nibbles.
const EXPAND_FROM_ROWS: usize = 16;

/// Output pointer shared by the threads; each writes only the columns of its own groups.
#[derive(Clone, Copy)]
struct Out(*mut f32);
// SAFETY: the threads write disjoint column ranges of the buffer, which outlives the parallel loop.
unsafe impl Send for Out {}
unsafe impl Sync for Out {}

impl Out {
    /// A method, so that closures capture the whole (`Sync`) wrapper rather than its raw field.
    fn at(self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}

impl PackedMatrix {
    /// `x · Wᵀ` for `m` rows of `k` activations (row-major): `m` rows of `n`, on the best kernel here.
    pub fn matmul(&self, x: &[f32], m: usize) -> Result<Vec<f32>> {
        self.matmul_with(Isa::detect(), x, m)
    }

    /// As [`matmul`](Self::matmul) on a given kernel (one of [`Isa::available`]).
    pub fn matmul_with(&self, isa: Isa, x: &[f32], m: usize) -> Result<Vec<f32>> {
        if x.len() != m * self.k {
            return Err(QgemmError::Shape(format!(
                "{} activations are not {m} rows of {}",
                x.len(),
                self.k
            )));
        }
        let rows = QuantizedRows::new(x, m, self.k, self.format.block());
        let mut out = vec![0f32; m * self.n];
        self.matmul_quantized(isa, &rows, &mut out)?;
        Ok(out)
    }

    /// The product with activations already quantized (several matrices can share one
    /// quantization of the same input when their blocks agree).
    pub fn matmul_quantized(&self, isa: Isa, x: &QuantizedRows, out: &mut [f32]) -> Result<()> {
        if x.k != self.k || x.block != self.format.block() || out.len() != x.m * self.n {
            return Err(QgemmError::Shape(format!(
                "activations {}×{} (block {}) into {} outputs for a {}×{} {} matrix",
                x.m,
                x.k,
                x.block,
                out.len(),
                self.n,
                self.k,
                self.format.name()
            )));
        }
        if !Isa::available().contains(&isa) {
            return Err(QgemmError::UnsupportedFormat(format!(
                "{} kernel on this CPU",
                isa.name()
            )));
        }
        let groups = self.groups();
        let tasks = (rayon::current_num_threads() * 4).clamp(1, groups);
        let per_task = groups.div_ceil(tasks);
        let block = self.format.block();
        let blocks = self.blocks();
        let group_bytes = self.group_bytes();
        let group_high = self.group_high_bytes();
        let expand = self.nibbles && x.m >= EXPAND_FROM_ROWS && isa.expands_prompt_weights();
        let chunk = if expand {
            (CHUNK_BYTES / (blocks * block_bytes(block, false))).max(1)
        } else {
            (CHUNK_BYTES / group_bytes).max(1)
        };
        // The tiles below: unpacked (no fifth bits, no nibbles) when `expand`.
        let tile_rows = isa.rows_per_tile(kernels::is_tall(
            !self.high.is_empty() && !expand,
            self.nibbles && !expand,
            self.format.wide(),
            block,
        ));
        let (m, n) = (x.m, self.n);
        let target = Out(out.as_mut_ptr());
        (0..tasks).into_par_iter().for_each(|task| {
            let first = task * per_task;
            let end = groups.min(first + per_task);
            let mut buf = [[0f32; GROUP]; 8];
            let mut expanded: Vec<Vec<u8>> = Vec::new();
            for start in (first..end).step_by(chunk) {
                let stop = end.min(start + chunk);
                if expand {
                    expanded.resize_with(stop - start, Vec::new);
                    for (g, out) in (start..stop).zip(&mut expanded) {
                        self.expand_group(g, out);
                    }
                }
                for r0 in (0..m).step_by(tile_rows) {
                    let rows = tile_rows.min(m - r0);
                    for g in start..stop {
                        let scales = g * blocks * GROUP..(g + 1) * blocks * GROUP;
                        let (q, high, nibbles): (&[u8], &[u8], bool) = if expand {
                            (&expanded[g - start], &[], false)
                        } else {
                            (
                                &self.q[g * group_bytes..(g + 1) * group_bytes],
                                &self.high[g * group_high..(g + 1) * group_high],
                                self.nibbles,
                            )
                        };
                        let tile = Tile {
                            q,
                            high,
                            a: &self.a[scales.clone()],
                            b: (!self.b.is_empty()).then(|| &self.b[scales]),
                            zero: self.format.zero_point().map_or(0, i32::from),
                            block,
                            blocks,
                            wide: self.format.wide(),
                            nibbles,
                        };
                        kernels::run(isa, &tile, x, r0, rows, &mut buf);
                        let cols = GROUP.min(n - g * GROUP);
                        for (r, values) in buf.iter().enumerate().take(rows) {
                            // SAFETY: row r0 + r < m and columns g·16 .. g·16 + cols < n lie inside
                            // `out` (checked above), and only this task writes group g's columns.
                            unsafe {
                                std::ptr::copy_nonoverlapping(
                                    values.as_ptr(),
                                    target.at((r0 + r) * n + g * GROUP),
                                    cols,
                                );
                            }
                        }
                    }
                }
            }
        });
        Ok(())
    }
}
