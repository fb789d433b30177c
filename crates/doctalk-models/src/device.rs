//! Which device runs a model, named without exposing candle to callers.

use candle_core::Device;

use crate::error::{ModelError, Result};

/// Where a model's tensors live. CPU unless the caller asks otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The CPU; candle uses all cores through its gemm and rayon thread pools.
    #[default]
    Cpu,
    /// A CUDA GPU by ordinal; needs this crate's `cuda` feature.
    Cuda(usize),
}

impl DeviceChoice {
    pub fn open(self) -> Result<Device> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            // Without the `cuda` feature candle's stub backend returns an error here, not a panic.
            DeviceChoice::Cuda(ordinal) => Device::new_cuda(ordinal)
                .map_err(|e| ModelError::DeviceUnavailable(format!("cuda:{ordinal}: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_always_opens() {
        assert!(DeviceChoice::default().open().unwrap().is_cpu());
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_is_a_typed_error() {
        assert!(matches!(
            DeviceChoice::Cuda(0).open(),
            Err(ModelError::DeviceUnavailable(_))
        ));
    }
}
