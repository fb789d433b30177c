//! Tensor sizes read from model files, which a damaged or hostile file can make anything.

/// The number of elements of a tensor of `dims`, or `None` when the sizes overflow — counting the
/// row strides a tensor library derives from them, which multiply past a zero-sized dimension
/// (`[0, 2⁴⁰, 2⁴⁰]` holds nothing, yet its first stride is 2⁸⁰: found by fuzzing the ONNX reader,
/// a panic inside candle).
pub fn element_count(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d.max(1)))?;
    Some(dims.iter().product())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_strides_that_overflow_have_no_count() {
        assert_eq!(element_count(&[2, 3, 4]), Some(24));
        assert_eq!(element_count(&[]), Some(1));
        assert_eq!(element_count(&[0, 5]), Some(0));
        assert_eq!(element_count(&[usize::MAX, 2]), None);
        assert_eq!(element_count(&[0, 1 << 40, 1 << 40]), None);
    }
}
