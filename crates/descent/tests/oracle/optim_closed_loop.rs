//! `optim_closed_loop`: optimizers on 2-D test functions, exact gradient at the current point.
//!
//! Step k applies the gradient at `trajectory[k]`; the whole trajectory and `f` along it are
//! compared. The formulas are those of the oracle README (rosenbrock, saddle, beale, quadratic),
//! evaluated in the case's dtype.

use descent::Float;
use serde_json::Value;

use crate::common::{self, Tolerance};
use crate::optim_replay::{build, spec_of, to_f64};

pub fn run(case: &Value) -> Result<(), String> {
    if common::is_f32(case)? {
        run_as::<f32>(case)
    } else {
        run_as::<f64>(case)
    }
}

/// A test function with its constants, evaluated in `F`.
enum Function<F> {
    Rosenbrock { a: F, b: F },
    Saddle,
    Beale,
    Quadratic { a: [[F; 2]; 2], b: [F; 2] },
}

impl<F: Float> Function<F> {
    fn of(spec: &Value) -> Result<Self, String> {
        let constants = common::field(spec, "constants")?;
        match common::string(spec, "name")? {
            "rosenbrock" => Ok(Function::Rosenbrock {
                a: F::of(common::num(constants, "a")?),
                b: F::of(common::num(constants, "b")?),
            }),
            "saddle" => Ok(Function::Saddle),
            "beale" => Ok(Function::Beale),
            "quadratic" => {
                let a = common::vec2(constants, "A")?;
                let b = common::vec1(constants, "b")?;
                if a.len() != 2 || a.iter().any(|r| r.len() != 2) || b.len() != 2 {
                    return Err("quadratic: A must be 2x2 and b of length 2".into());
                }
                Ok(Function::Quadratic {
                    a: [
                        [F::of(a[0][0]), F::of(a[0][1])],
                        [F::of(a[1][0]), F::of(a[1][1])],
                    ],
                    b: [F::of(b[0]), F::of(b[1])],
                })
            }
            other => Err(format!("unknown function `{other}`")),
        }
    }

    fn value(&self, v: &[F]) -> F {
        let (x, y) = (v[0], v[1]);
        let half = F::of(0.5);
        match self {
            Function::Rosenbrock { a, b } => {
                let (u, w) = (*a - x, y - x * x);
                u * u + *b * w * w
            }
            Function::Saddle => x * x - y * y,
            Function::Beale => beale_terms(x, y).iter().map(|(r, _)| *r * *r).sum(),
            Function::Quadratic { a, b } => {
                let av = [a[0][0] * x + a[0][1] * y, a[1][0] * x + a[1][1] * y];
                half * (x * av[0] + y * av[1]) - (b[0] * x + b[1] * y)
            }
        }
    }

    fn gradient(&self, v: &[F]) -> [F; 2] {
        let (x, y) = (v[0], v[1]);
        let two = F::of(2.0);
        match self {
            Function::Rosenbrock { a, b } => {
                let w = y - x * x;
                [-two * (*a - x) - F::of(4.0) * *b * x * w, two * *b * w]
            }
            Function::Saddle => [two * x, -two * y],
            Function::Beale => {
                let mut g = [F::zero(), F::zero()];
                for (i, (r, y_pow)) in beale_terms(x, y).into_iter().enumerate() {
                    // r_i = c_i - x + x y^(i+1): dr/dx = y^(i+1) - 1, dr/dy = (i+1) x y^i
                    g[0] += two * r * (y_pow * y - F::one());
                    g[1] += two * r * F::of((i + 1) as f64) * x * y_pow;
                }
                g
            }
            Function::Quadratic { a, b } => [
                a[0][0] * x + a[0][1] * y - b[0],
                a[1][0] * x + a[1][1] * y - b[1],
            ],
        }
    }
}

/// Beale's residuals `c_i - x + x y^(i+1)` for i = 0, 1, 2, each with `y^i`.
fn beale_terms<F: Float>(x: F, y: F) -> [(F, F); 3] {
    let c = [1.5, 2.25, 2.625];
    let mut out = [(F::zero(), F::one()); 3];
    let mut y_pow = F::one();
    for (o, c) in out.iter_mut().zip(c) {
        *o = (F::of(c) - x + x * (y_pow * y), y_pow);
        y_pow *= y;
    }
    out
}

fn run_as<F: Float>(case: &Value) -> Result<(), String> {
    let tol = Tolerance::of(case)?;
    let function = Function::<F>::of(common::field(case, "function")?)?;
    let steps = common::uint(case, "steps")?;
    let x0 = common::vec1(case, "x0")?;
    let trajectory = common::vec2(case, "trajectory")?;
    let f = common::vec1(case, "f")?;
    if x0.len() != 2 || trajectory.len() != steps + 1 || f.len() != steps + 1 {
        return Err(format!(
            "{steps} steps but x0 of length {}, {} trajectory points, {} values of f",
            x0.len(),
            trajectory.len(),
            f.len()
        ));
    }
    let (mut opt, lr) = build::<F>(&spec_of(case)?, 2)?;
    let mut v: Vec<F> = x0.iter().map(|&x| F::of(x)).collect();
    for k in 0..=steps {
        tol.check("trajectory", &to_f64(&v), &trajectory[k])
            .map_err(|e| format!("after step {k}: {e}"))?;
        tol.check_one("f", function.value(&v).f64(), f[k])
            .map_err(|e| format!("after step {k}: {e}"))?;
        if k < steps {
            let g = function.gradient(&v);
            opt.step(lr, &mut v, &g);
        }
    }
    Ok(())
}
