//! Streaming text with stop strings: emit what cannot be the start of a stop string, hold back the rest.

/// Accumulates decoded text and decides what may be shown to the caller.
pub(crate) struct StopMatcher {
    stops: Vec<String>,
    /// Text decoded so far that has not been emitted.
    pending: String,
}

/// What one push produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// Text that is now safe to show.
    pub emit: String,
    /// The stop string that was found, if any; generation must end.
    pub stopped: Option<String>,
}

impl StopMatcher {
    pub(crate) fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.to_vec(),
            pending: String::new(),
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> Step {
        self.pending.push_str(text);
        // Earliest stop string wins, so a later, longer match cannot leak text past an earlier one.
        let hit = self
            .stops
            .iter()
            .filter_map(|s| self.pending.find(s.as_str()).map(|at| (at, s)))
            .min_by_key(|(at, _)| *at);
        if let Some((at, stop)) = hit {
            let emit = self.pending[..at].to_string();
            let stop = stop.clone();
            self.pending.clear();
            return Step {
                emit,
                stopped: Some(stop),
            };
        }
        let keep = self.held_back_len();
        let cut = self.pending.len() - keep;
        let emit = self.pending[..cut].to_string();
        self.pending.drain(..cut);
        Step { emit, stopped: None }
    }

    /// Whatever is still held back; called when generation ends for another reason.
    pub(crate) fn finish(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }

    /// Length of the longest suffix of `pending` that is a proper prefix of some stop string.
    fn held_back_len(&self) -> usize {
        let mut best = 0;
        for stop in &self.stops {
            for (i, _) in self.pending.char_indices() {
                let suffix = &self.pending[i..];
                if suffix.len() > best && suffix.len() < stop.len() && stop.starts_with(suffix) {
                    best = suffix.len();
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (Vec<String>, Option<String>, String) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut m = StopMatcher::new(&stops);
        let mut emitted = Vec::new();
        for p in pieces {
            let step = m.push(p);
            emitted.push(step.emit);
            if step.stopped.is_some() {
                return (emitted, step.stopped, String::new());
            }
        }
        let rest = m.finish();
        (emitted, None, rest)
    }

    #[test]
    fn without_stops_everything_passes_through() {
        let (e, s, rest) = run(&[], &["Hel", "lo"]);
        assert_eq!(e, ["Hel", "lo"]);
        assert_eq!(s, None);
        assert_eq!(rest, "");
    }

    #[test]
    fn a_stop_split_across_tokens_is_held_back_and_cut() {
        let (e, s, _) = run(&["\nUser:"], &["Paris.", "\nUs", "er:", " more"]);
        assert_eq!(e, ["Paris.", "", ""]);
        assert_eq!(s.as_deref(), Some("\nUser:"));
    }

    #[test]
    fn a_false_start_is_released_once_it_diverges() {
        let (e, s, _) = run(&["STOP"], &["ST", "ART"]);
        assert_eq!(e, ["", "START"]);
        assert_eq!(s, None);
    }

    #[test]
    fn the_earliest_of_several_stops_wins() {
        let (e, s, _) = run(&["bc", "abcd"], &["xabcd"]);
        assert_eq!(e, ["x"]);
        assert_eq!(s.as_deref(), Some("abcd"));
    }

    #[test]
    fn held_back_text_is_returned_at_the_end() {
        let (e, s, rest) = run(&["</s>"], &["done</"]);
        assert_eq!(e, ["done"]);
        assert_eq!(s, None);
        assert_eq!(rest, "</");
    }

    #[test]
    fn multibyte_text_is_never_split_inside_a_character() {
        let (e, s, _) = run(&["。问"], &["答案是巴黎。", "问题"]);
        assert_eq!(e, ["答案是巴黎", ""]);
        assert_eq!(s.as_deref(), Some("。问"));
    }
}
