//! Which kernel this CPU can run, decided at run time so one binary serves every x86-64 (and ARM).
//! Decided once per process: every matrix product asks.

use std::sync::OnceLock;

/// A kernel family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// AVX-512 F/BW with VNNI (`vpdpbusd`): Ice Lake and later Intel, Zen 4 and later AMD.
    Avx512Vnni,
    /// AVX2 with FMA (`vpmaddubsw` + `vpmaddwd`): almost every x86-64 laptop since 2013.
    Avx2,
    /// Plain Rust: any CPU.
    Portable,
}

impl Isa {
    /// The fastest kernel this CPU runs. `DOCTALK_QGEMM_ISA=avx2|portable` caps it (for comparisons).
    pub fn detect() -> Self {
        static CHOSEN: OnceLock<Isa> = OnceLock::new();
        *CHOSEN.get_or_init(|| match std::env::var("DOCTALK_QGEMM_ISA").as_deref() {
            Ok("portable") => Self::Portable,
            Ok("avx2") if Self::available().contains(&Self::Avx2) => Self::Avx2,
            _ => Self::available()[0],
        })
    }

    /// Every kernel this CPU can run, fastest first (tests run each of them).
    pub fn available() -> &'static [Self] {
        static AVAILABLE: OnceLock<Vec<Isa>> = OnceLock::new();
        AVAILABLE.get_or_init(Self::probe)
    }

    fn probe() -> Vec<Self> {
        let mut out = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vnni")
            {
                out.push(Self::Avx512Vnni);
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                out.push(Self::Avx2);
            }
        }
        out.push(Self::Portable);
        out
    }

    /// Activation rows one kernel call handles (the register tile's height) for a `tall` tile (see
    /// `Tile::tall`: weights with fifth bits, or unpacked to bytes for a prompt) or another. AVX2
    /// has half AVX-512's registers: two rows, except that expanding fifth bits into bytes costs as
    /// much as the products of two rows, so those formats (Q5_0 is most of the default model) share
    /// each expansion among four (`benches/decode.rs` with 128 rows, Q5_0 on the Qwen2.5-0.5B shape:
    /// 1.6× the prompt speed of two; Q4_K, Q6_K and Q8_0 gained nothing), and unpacked prompt
    /// weights, with nothing left to unpack, also run faster four rows at a time (Q5_0 219 vs 204
    /// tokens/s, Q4_0 223 vs 208; six rows gained nothing).
    pub(crate) fn rows_per_tile(self, tall: bool) -> usize {
        match self {
            Self::Avx512Vnni => 8,
            Self::Avx2 if tall => 4,
            Self::Avx2 => 2,
            Self::Portable => 4,
        }
    }

    /// Whether prompt-sized products unpack four- and five-bit weights to bytes once per chunk of
    /// columns rather than in every row tile. Measured on AVX2 (`benches/decode.rs`, 128 rows, same
    /// sitting): Q5_0 160 → 219 tokens/s on the Qwen2.5-0.5B shape, Q4_0 196 → 223, Q4_K 133 → 154
    /// on Qwen2.5-3B's. Not yet measured with AVX-512 (whose fifth-bit unpacking is one masked
    /// add), so it keeps unpacking in the tile; the portable kernel is the reference the others
    /// are checked against and stays as it is.
    pub(crate) fn expands_prompt_weights(self) -> bool {
        self == Self::Avx2
    }

    /// A short name for logs and benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            Self::Avx512Vnni => "avx512-vnni",
            Self::Avx2 => "avx2",
            Self::Portable => "portable",
        }
    }
}
