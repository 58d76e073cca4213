//! Metrics reported at the end of a run: R² for regression, accuracy for classification.

use ndarray::ArrayView2;

use crate::Float;

/// Coefficient of determination, averaged over target columns (scikit-learn's
/// `r2_score` with `multioutput="uniform_average"`). A constant target column counts as 1.0
/// when predicted exactly and 0.0 otherwise, as scikit-learn does.
pub fn r2_score<F: Float>(pred: ArrayView2<'_, F>, target: ArrayView2<'_, F>) -> f64 {
    let k = target.ncols().max(1);
    let mut total = 0.0;
    for (p, t) in pred.columns().into_iter().zip(target.columns()) {
        let n = t.len() as f64;
        let mean = t.iter().map(|x| x.f64()).sum::<f64>() / n;
        let ss_tot: f64 = t.iter().map(|x| (x.f64() - mean).powi(2)).sum();
        let ss_res: f64 = p
            .iter()
            .zip(t.iter())
            .map(|(p, t)| (p.f64() - t.f64()).powi(2))
            .sum();
        total += if ss_tot == 0.0 {
            if ss_res == 0.0 {
                1.0
            } else {
                0.0
            }
        } else {
            1.0 - ss_res / ss_tot
        };
    }
    total / k as f64
}

/// Fraction of rows whose predicted class equals the label. `logits` has one column (binary:
/// class 1 when the logit is > 0) or one column per class (arg-max); `labels` is `n x 1`.
pub fn accuracy<F: Float>(logits: ArrayView2<'_, F>, labels: ArrayView2<'_, F>) -> f64 {
    let n = logits.nrows();
    if n == 0 {
        return 0.0;
    }
    let correct = logits
        .rows()
        .into_iter()
        .zip(labels.iter())
        .filter(|(row, &y)| predicted_class(row.iter().copied()) as f64 == y.f64())
        .count();
    correct as f64 / n as f64
}

/// The predicted class of one row of logits (see [`accuracy`]).
pub fn predicted_class<F: Float>(row: impl Iterator<Item = F> + Clone) -> usize {
    let mut it = row.clone();
    let first = it.next();
    if it.next().is_none() {
        return usize::from(first.is_some_and(|z| z > F::zero()));
    }
    row.enumerate()
        .fold((0, F::neg_infinity()), |(bi, bv), (i, v)| {
            if v > bv {
                (i, v)
            } else {
                (bi, bv)
            }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn r2_is_one_for_a_perfect_fit_and_zero_for_the_mean() {
        let t = array![[1.0], [2.0], [3.0]];
        assert_eq!(r2_score(t.view(), t.view()), 1.0);
        let m = array![[2.0], [2.0], [2.0]];
        assert_eq!(r2_score(m.view(), t.view()), 0.0);
    }

    #[test]
    fn accuracy_binary_and_multiclass() {
        let z = array![[0.5], [-1.0], [2.0]];
        let y = array![[1.0], [0.0], [0.0]];
        assert!((accuracy(z.view(), y.view()) - 2.0 / 3.0).abs() < 1e-15);
        let z = array![[0.1, 0.9, 0.0], [3.0, 0.0, 1.0]];
        let y = array![[1.0], [2.0]];
        assert_eq!(accuracy(z.view(), y.view()), 0.5);
    }
}
