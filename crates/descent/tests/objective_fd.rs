//! Every 2-D test function's gradient and Hessian against central finite differences, and its
//! known minima against the gradient.
//!
//! h = 1e-5; central differences err by O(h²)·f''' plus rounding O(ε |f| / h), so the
//! tolerance is 1e-6 relative to the size of the derivative and the value: only a wrong
//! formula can fail it.

use descent::objective::{by_name, Objective, Quadratic, Rosenbrock, NAMES};

const H: f64 = 1e-5;

fn all() -> Vec<Box<dyn Objective>> {
    let mut v: Vec<Box<dyn Objective>> = NAMES.iter().map(|n| by_name(n).unwrap()).collect();
    v.push(Box::new(Quadratic {
        a: [[3.0, 1.5], [-0.5, 2.0]],
        b: [1.0, -2.0],
    }));
    v.push(Box::new(Rosenbrock { a: -0.5, b: 7.0 }));
    v
}

fn points(f: &dyn Objective) -> Vec<[f64; 2]> {
    let (lo, hi) = f.default_view();
    let mut p = vec![f.default_start()];
    for (s, t) in [
        (0.13, 0.71),
        (0.52, 0.37),
        (0.88, 0.09),
        (0.3, 0.95),
        (0.61, 0.58),
    ] {
        p.push([lo[0] + s * (hi[0] - lo[0]), lo[1] + t * (hi[1] - lo[1])]);
    }
    p
}

fn close(fd: f64, exact: f64, scale: f64) -> bool {
    (fd - exact).abs() <= 1e-6 * (1.0 + exact.abs() + scale)
}

#[test]
fn gradients_match_central_differences() {
    for f in all() {
        for p in points(f.as_ref()) {
            let g = f.gradient(p);
            for k in 0..2 {
                let (mut a, mut b) = (p, p);
                a[k] += H;
                b[k] -= H;
                let fd = (f.value(a) - f.value(b)) / (2.0 * H);
                let scale = f.value(p).abs() * f64::EPSILON / H;
                assert!(
                    close(fd, g[k], scale),
                    "{} at {p:?}, d/d{k}: {} vs fd {fd}",
                    f.name(),
                    g[k]
                );
            }
        }
    }
}

#[test]
fn hessians_match_central_differences_of_the_gradient() {
    for f in all() {
        for p in points(f.as_ref()) {
            let h = f.hessian(p);
            assert_eq!(h[0][1], h[1][0], "{} Hessian not symmetric", f.name());
            for k in 0..2 {
                let (mut a, mut b) = (p, p);
                a[k] += H;
                b[k] -= H;
                let (ga, gb) = (f.gradient(a), f.gradient(b));
                for r in 0..2 {
                    let fd = (ga[r] - gb[r]) / (2.0 * H);
                    let scale = f.gradient(p)[r].abs() * f64::EPSILON / H;
                    assert!(
                        close(fd, h[r][k], scale),
                        "{} at {p:?}, H[{r}][{k}]: {} vs fd {fd}",
                        f.name(),
                        h[r][k]
                    );
                }
            }
        }
    }
}

#[test]
fn known_minima_are_stationary_and_locally_convex() {
    for f in all() {
        let minima = f.minima();
        if matches!(f.name(), "saddle" | "monkey-saddle") {
            assert!(minima.is_empty(), "{}", f.name());
        } else {
            assert!(!minima.is_empty(), "{}", f.name());
        }
        for m in minima {
            let g = f.gradient(m);
            assert!(
                g[0].abs() < 1e-10 && g[1].abs() < 1e-10,
                "{} at {m:?}: {g:?}",
                f.name()
            );
            let h = f.hessian(m);
            assert!(
                h[0][0] > 0.0 && h[0][0] * h[1][1] - h[0][1] * h[1][0] > 0.0,
                "{}",
                f.name()
            );
        }
    }
}

#[test]
fn views_contain_the_start_and_the_minima() {
    for f in all() {
        let (lo, hi) = f.default_view();
        let inside = |p: [f64; 2]| (0..2).all(|k| lo[k] <= p[k] && p[k] <= hi[k]);
        assert!(inside(f.default_start()), "{}", f.name());
        for m in f.minima() {
            assert!(inside(m), "{} minimum {m:?}", f.name());
        }
    }
}
