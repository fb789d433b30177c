//! Length-sorted batching: similar lengths share a batch so little compute is spent on padding.

/// Most padded tokens in one encoder batch: 4,096 × 384 f32 activations are 6 MB and the FFN's
/// 4× widening 25 MB, under the 32 MB that glibc still serves from reused heap memory
/// (`crate::memory`); larger buffers are mapped and faulted in afresh on every operation.
pub(crate) const BATCH_TOKEN_BUDGET: usize = 4096;
/// Most `batch × seq²` in one batch: attention scores are that × heads × 4 bytes (12 heads: 25 MB).
pub(crate) const BATCH_ATTENTION_BUDGET: usize = 1 << 19;

/// Groups item indices into batches, shortest items first: at most `batch_size` items, and no more
/// than [`BATCH_TOKEN_BUDGET`] padded tokens and [`BATCH_ATTENTION_BUDGET`] attention cells, so long
/// passages go in small batches and short ones in large batches.
///
/// Each batch lists original indices, so results can be written back in input order.
/// The sort is stable: equal lengths keep their input order, which keeps runs reproducible.
pub(crate) fn length_sorted_batches(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    budgeted_batches(lengths, batch_size, BATCH_TOKEN_BUDGET, BATCH_ATTENTION_BUDGET)
}

fn budgeted_batches(
    lengths: &[usize],
    batch_size: usize,
    tokens: usize,
    attention: usize,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for i in order {
        // Sorted ascending: this item's length is the padded width if it joins.
        let width = lengths[i].max(1);
        let n = current.len() + 1;
        let fits = n <= batch_size.max(1) && n * width <= tokens && n * width * width <= attention;
        if !fits && !current.is_empty() {
            batches.push(std::mem::take(&mut current));
        }
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
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
    fn long_items_go_in_small_batches_and_short_ones_in_large_ones() {
        let mut lengths = vec![500; 5];
        lengths.extend([20; 100]);
        let batches = length_sorted_batches(&lengths, 64);
        // Short ones first: 64 per batch (the count limit), then the rest.
        assert_eq!(batches[0].len(), 64);
        assert_eq!(batches[1].len(), 36);
        // 500 tokens: 2 × 500² = 500k attention cells fit the budget, 3 do not.
        assert!(batches[2..]
            .iter()
            .all(|b| b.len() <= 2 && b.iter().all(|&i| lengths[i] == 500)));
        let mut all: Vec<usize> = batches.concat();
        all.sort();
        assert_eq!(all, (0..lengths.len()).collect::<Vec<_>>());
        // A single item over every budget still gets a batch of its own.
        assert_eq!(budgeted_batches(&[10_000], 8, 16, 16), vec![vec![0]]);
    }

    #[test]
    fn empty_input_gives_no_batches_and_zero_batch_size_is_treated_as_one() {
        assert!(length_sorted_batches(&[], 4).is_empty());
        assert_eq!(length_sorted_batches(&[2, 1], 0), vec![vec![1], vec![0]]);
    }
}
