//! The least-squares curvature and minimum-norm solutions against NumPy on data the
//! implementation has not seen: `fixtures/analysis/curvature.json`, written by
//! `fixtures/analysis/gen_curvature.py` (NumPy 2.4.6), which builds the Hessian from the
//! Jacobian in torch's parameter layout and records `eigvalsh(H)`, the eigenvalues from
//! `svd(A)`, `matrix_rank` and `lstsq(rcond=None)`.

use descent::analysis::{
    curvature, normal_equation, Curvature, CurvatureConfig, CurvatureMethod, LeastSquaresMethod,
};
use descent::data::{builtin, Columns, TargetKind};
use ndarray::Array2;
use serde_json::Value;

const EPS: f64 = f64::EPSILON;

struct Case {
    name: String,
    x: Array2<f64>,
    y: Array2<f64>,
    bias: bool,
    targets: usize,
    fixture: Value,
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(floats).collect();
    Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j])
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/analysis/curvature.json"
    ))
    .unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    all["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let name = d["name"].as_str().unwrap().to_string();
            let (x, y) = if name == "breast_cancer_raw" {
                let data =
                    builtin::load("breast_cancer", &Columns::default(), TargetKind::Real).unwrap();
                (data.x, data.y)
            } else {
                (matrix(&d["x"]), matrix(&d["y"]))
            };
            Case {
                name,
                x,
                y,
                bias: d["bias"].as_bool().unwrap(),
                targets: d["targets"].as_u64().unwrap() as usize,
                fixture: d.clone(),
            }
        })
        .collect()
}

fn rel(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs()
}

/// The smallest eigenvalue above numpy's rank tolerance in an ascending spectrum.
fn smallest_nonzero(ascending: &[f64], rank: usize) -> f64 {
    ascending[ascending.len() - rank]
}

#[test]
fn dense_curvature_matches_numpy() {
    // Tolerance: 1e-9 relative on every eigenvalue, against the eigenvalues numpy derives
    // from the SVD of A (both sides compute σ(A) with backward-stable SVDs, whose error in σ_i
    // is about ε σ_max, so the relative error of λ_i = 2 σ_i²/(n k) is about 2 ε σ_max/σ_i =
    // 2 ε √(λ_max/λ_i) ≤ 7e-10 for the worst set here, κ = 2.4e12). Against eigvalsh(H) the
    // largest eigenvalue agrees to 1e-12; the smallest only to eigvalsh's own accuracy on H,
    // `n_params ε λ_max` absolute (a relative 1e-3 on unscaled breast_cancer).
    for c in cases() {
        let f = &c.fixture;
        let got = curvature(c.x.view(), c.bias, c.targets, &CurvatureConfig::default()).unwrap();
        let svd = floats(&f["svd_eigenvalues"]);
        let eigh = floats(&f["eigvalsh"]);
        let n_params = f["n_params"].as_u64().unwrap() as usize;
        let rank = f["rank"].as_u64().unwrap() as usize;
        let (want_max, want_min) = (*svd.last().unwrap(), svd[0]);
        let lmin = got.lambda_min.unwrap();
        let kappa = got.condition_number.unwrap();
        println!(
            "{:>20}: rank {} / {}, λ_max rel diff {:.1e} (eigvalsh {:.1e}), λ_min {:.6e} rel \
             diff {:.1e} (eigvalsh {:.3e}: diff {:.1e} = {:.2} n_params ε λ_max), κ {:.4e}",
            c.name,
            got.rank.unwrap(),
            n_params,
            rel(got.lambda_max, want_max),
            rel(got.lambda_max, *eigh.last().unwrap()),
            lmin,
            if rank == n_params {
                rel(lmin, want_min)
            } else {
                0.0
            },
            eigh[0],
            (lmin - eigh[0]).abs(),
            (lmin - eigh[0]).abs() / (n_params as f64 * EPS * got.lambda_max),
            kappa,
        );
        assert_eq!(got.method, CurvatureMethod::Dense);
        assert_eq!(
            (got.n_params, got.converged),
            (n_params, true),
            "{}",
            c.name
        );
        assert_eq!(got.rank, Some(rank), "{}", c.name);
        assert!(rel(got.lambda_max, want_max) < 1e-9, "{}: {got:?}", c.name);
        assert!(
            rel(got.lambda_max, *eigh.last().unwrap()) < 1e-12,
            "{}",
            c.name
        );
        let eigh_bound = n_params as f64 * EPS * got.lambda_max;
        assert!(
            (lmin - eigh[0]).abs() <= eigh_bound,
            "{}: {lmin} vs {}",
            c.name,
            eigh[0]
        );
        let nonzero = got.lambda_min_nonzero.unwrap();
        assert!(
            rel(nonzero, smallest_nonzero(&svd, rank)) < 1e-9,
            "{}: {nonzero}",
            c.name
        );
        if rank == n_params {
            assert!(rel(lmin, want_min) < 1e-9, "{}: {got:?}", c.name);
            assert!(rel(kappa, want_max / want_min) < 1e-9, "{}", c.name);
            assert_eq!(got.is_singular(), Some(false));
        } else {
            assert_eq!(lmin, 0.0, "{}", c.name);
            assert_eq!(kappa, f64::INFINITY, "{}", c.name);
        }
    }
}

#[test]
fn lanczos_curvature_matches_numpy() {
    // The iterative path forced on the same sets (dense_limit 0, up to p Lanczos steps).
    // λ_max: 1e-9 relative. λ_min: its error is at most the residual it converged with,
    // max(tol λ_min, n_params ε λ_max), plus the rounding of v -> 2 Aᵀ(A v)/(n k), about
    // n ε λ_max; so 1e-6 relative where κ ≤ 1e6 and that absolute bound elsewhere.
    let config = CurvatureConfig {
        dense_limit: 0,
        max_iter: 1000,
        ..CurvatureConfig::default()
    };
    for c in cases() {
        let f = &c.fixture;
        let got: Curvature = curvature(c.x.view(), c.bias, c.targets, &config).unwrap();
        let svd = floats(&f["svd_eigenvalues"]);
        let n_params = f["n_params"].as_u64().unwrap() as usize;
        let rank = f["rank"].as_u64().unwrap() as usize;
        let (want_max, want_min) = (*svd.last().unwrap(), svd[0]);
        assert_eq!(got.method, CurvatureMethod::Iterative);
        assert!(got.converged, "{}: {got:?}", c.name);
        assert!(rel(got.lambda_max, want_max) < 1e-9, "{}: {got:?}", c.name);
        let lmin = got.lambda_min.unwrap();
        let floor = (n_params + c.x.nrows()) as f64 * EPS * want_max;
        println!(
            "{:>20} (Lanczos): λ_max rel diff {:.1e}, λ_min {:.6e} vs {:.6e}: diff {:.1e} = \
             {:.3} (n_params + n) ε λ_max",
            c.name,
            rel(got.lambda_max, want_max),
            lmin,
            want_min,
            (lmin - want_min).abs(),
            (lmin - want_min).abs() / floor
        );
        if rank < n_params {
            assert_eq!(lmin, 0.0, "{}", c.name);
            assert_eq!(got.condition_number, Some(f64::INFINITY));
        } else if want_max / want_min <= 1e6 {
            assert!(rel(lmin, want_min) < 1e-6, "{}: {got:?}", c.name);
            assert_eq!(got.rank, Some(n_params));
        } else {
            assert!((lmin - want_min).abs() <= floor, "{}: {got:?}", c.name);
        }
    }
}

#[test]
fn minimum_norm_least_squares_matches_lstsq() {
    // Tolerance: 1e-9 absolute on every entry (all |θ| ≤ 160). Both sides are backward
    // stable, so they differ by about κ(A) ε |θ| + κ(A)² ε |r| / |A|²; with κ(A) ≤ 1e6 and
    // small residuals that stays below 1e-9 (the worst, ill_conditioned, differs by 2e-10).
    for c in cases() {
        let f = &c.fixture;
        let got = normal_equation(c.x.view(), c.y.view(), c.bias).unwrap();
        let want_w = matrix(&f["lstsq_weight"]);
        let want_b = (!f["lstsq_bias"].is_null()).then(|| floats(&f["lstsq_bias"]));
        let scale = f["lstsq_max_abs"].as_f64().unwrap();
        let mut worst: f64 = 0.0;
        for (t, row) in got.weight.iter().enumerate() {
            for (j, w) in row.iter().enumerate() {
                worst = worst.max((w - want_w[[t, j]]).abs());
            }
        }
        if let (Some(b), Some(want)) = (&got.bias, &want_b) {
            for (g, w) in b.iter().zip(want) {
                worst = worst.max((g - w).abs());
            }
        }
        let biggest = got.to_flat().iter().fold(0.0f64, |m, v| m.max(v.abs()));
        println!(
            "{:>20}: rank {} ({}), max |θ - lstsq| {:.2e} = {:.1e} max|θ|, max|θ| {:.3}",
            c.name,
            got.rank,
            got.method.name(),
            worst,
            worst / scale,
            biggest
        );
        let rank_a = f["lstsq_rank"].as_u64().unwrap() as usize;
        assert_eq!(got.rank, rank_a, "{}", c.name);
        let p = c.x.ncols() + usize::from(c.bias);
        let method = if rank_a == p {
            LeastSquaresMethod::Qr
        } else {
            LeastSquaresMethod::SvdMinNorm
        };
        assert_eq!(got.method, method, "{}", c.name);
        assert!(worst <= 1e-9, "{}: {worst:e}", c.name);
        // Never the 1/ε blow-up of an unpivoted solve when the answer is O(1).
        assert!(
            (biggest - scale).abs() <= 1e-9 && biggest < 1e6,
            "{}",
            c.name
        );
    }
}
