//! Prompt lookup: guessing the next few tokens of an answer from its own prompt.
//!
//! A grounded answer copies whole phrases from its passages ("出差至少提前3个工作日在企业微信…"), so the
//! tokens that followed the latest earlier occurrence of the answer's last few tokens are often
//! exactly what the model writes next. The model checks every guess in one forward pass: decoding
//! on a CPU is bound by reading the weights, which that pass reads once for all of them, so each
//! guess it confirms saves most of a decode step. A guess counts only when it is the token the model
//! then chooses, so greedy text stays the model's own: the same, up to the near ties that int8
//! activations round differently whenever tokens are split into passes differently (as with a
//! cached prompt prefix).

/// Whether prompt lookup is on: unless `DOCTALK_LLM_LOOKUP=off` (for side-by-side benchmarks).
pub(crate) fn enabled_by_env() -> bool {
    std::env::var("DOCTALK_LLM_LOOKUP").map_or(true, |v| v != "off")
}

/// Most guesses checked in one pass: the output projection (the vocabulary times the width) runs
/// for every one of them, so a long run of wrong guesses costs more than it can save.
pub(crate) const MAX_GUESSES: usize = 7;

/// Lengths of the answer's tail looked up in the context, longest first. A single token recurs too
/// often to predict what follows it.
const TAILS: [usize; 2] = [3, 2];

/// Up to `max` tokens that followed the most recent earlier occurrence of `context`'s last few
/// tokens (the longest tail in [`TAILS`] found), or none.
pub(crate) fn guess(context: &[u32], max: usize) -> &[u32] {
    if max == 0 {
        return &[];
    }
    for n in TAILS {
        if context.len() <= n {
            continue;
        }
        let tail = &context[context.len() - n..];
        // Latest first: the answer's own recent wording, then the passage nearest to it.
        if let Some(at) = (0..context.len() - n).rev().find(|&i| &context[i..i + n] == tail) {
            let from = at + n;
            return &context[from..context.len().min(from + max)];
        }
    }
    &[]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_what_followed_the_tail_in_the_prompt() {
        // prompt: 1 2 3 4 5 6 7 … answer so far ends with 2 3.
        let context = [1, 2, 3, 4, 5, 6, 7, 9, 2, 3];
        assert_eq!(guess(&context, 3), &[4, 5, 6]);
        assert_eq!(guess(&context, 20), &[4, 5, 6, 7, 9, 2, 3]);
        assert_eq!(guess(&context, 0), &[] as &[u32]);
    }

    #[test]
    fn the_longest_tail_and_the_latest_occurrence_win() {
        // "8 2 3" occurs once, before a later "2 3": the three-token match wins.
        let context = [8, 2, 3, 5, 7, 2, 3, 6, 1, 8, 2, 3];
        assert_eq!(guess(&context, 2), &[5, 7]);
        // Without a three-token match, the latest two-token one.
        let context = [2, 3, 5, 7, 2, 3, 6, 1, 2, 3];
        assert_eq!(guess(&context, 1), &[6]);
    }

    #[test]
    fn no_match_and_short_contexts_guess_nothing() {
        assert!(guess(&[1, 2, 3, 4, 5], 4).is_empty());
        assert!(guess(&[1, 2], 4).is_empty());
        assert!(guess(&[], 4).is_empty());
        // A tail that occurs only as itself.
        assert!(guess(&[5, 1, 2], 4).is_empty());
        // Only a single token recurs: too little to guess from.
        assert!(guess(&[1, 2, 3, 1], 4).is_empty());
    }
}
