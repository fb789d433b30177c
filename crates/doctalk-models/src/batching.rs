//! Length-sorted batching: similar lengths share a batch so little compute is spent on padding.

/// Groups item indices into batches of at most `batch_size`, shortest items first.
///
/// Each batch lists original indices, so results can be written back in input order.
/// The sort is stable: equal lengths keep their input order, which keeps runs reproducible.
pub(crate) fn length_sorted_batches(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    order
        .chunks(batch_size.max(1))
        .map(|chunk| chunk.to_vec())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_sorted_by_length_and_cover_every_index_once() {
        let lengths = [5, 1, 9, 3, 1, 7, 2];
        let batches = length_sorted_batches(&lengths, 3);
        assert_eq!(batches, vec![vec![1, 4, 6], vec![3, 0, 5], vec![2]]);
        let mut all: Vec<usize> = batches.concat();
        all.sort();
        assert_eq!(all, (0..lengths.len()).collect::<Vec<_>>());
    }

    #[test]
    fn empty_input_gives_no_batches_and_zero_batch_size_is_treated_as_one() {
        assert!(length_sorted_batches(&[], 4).is_empty());
        assert_eq!(length_sorted_batches(&[2, 1], 0), vec![vec![1], vec![0]]);
    }
}
