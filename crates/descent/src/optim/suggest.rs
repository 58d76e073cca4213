//! "Did you mean ...?" for misspelt names and keys: the closest candidate by edit distance.

/// The candidate closest to `word` (case-insensitive Levenshtein distance), if it is close
/// enough to be a likely misspelling: at most one edit per three characters (at least one).
/// Ties go to the earlier candidate.
pub fn did_you_mean<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Levenshtein distance (insertions, deletions, substitutions) between lower-cased `a` and `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    // `row[j]`: the distance between the first i characters of a and the first j of b.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("adam", "adam"), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("adamm", "adam"), 1);
        assert_eq!(edit_distance("RMSprop", "rmsprop"), 0);
        assert_eq!(edit_distance("", "sgd"), 3);
    }

    #[test]
    fn suggests_only_close_candidates() {
        let names = ["sgd", "adam", "adamw", "nadam"];
        assert_eq!(did_you_mean("adamm", &names), Some("adam"));
        assert_eq!(did_you_mean("sgdx", &names), Some("sgd"));
        assert_eq!(did_you_mean("Adam", &names), Some("adam"));
        assert_eq!(did_you_mean("lbfgs", &names), None);
        assert_eq!(
            did_you_mean("momentm", &["momentum", "dampening"]),
            Some("momentum")
        );
    }
}
