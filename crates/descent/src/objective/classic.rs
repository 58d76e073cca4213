//! The classic non-convex test functions: Rosenbrock's banana, Beale, Himmelblau.

use super::{polish, Objective};

/// Rosenbrock's banana valley `f(x, y) = (a - x)² + b (y - x²)²`.
///
/// # Algorithm
/// ```text
/// ∇f   = (-2(a - x) - 4 b x (y - x²),  2 b (y - x²))
/// ∇²f  = [[2 - 4 b (y - x²) + 8 b x²,  -4 b x],
///         [-4 b x,                      2 b  ]]
/// ```
/// The only minimum is `(a, a²)`, at the end of a long curved valley.
///
/// # Defaults
/// `a = 1`, `b = 100`; start `(-1.2, 1)`.
///
/// # Reference
/// H. H. Rosenbrock, "An automatic method for finding the greatest or least value of a
/// function", The Computer Journal 3 (1960).
///
/// # Example
/// ```
/// use descent::objective::{Objective, Rosenbrock};
/// let f = Rosenbrock::default();
/// assert_eq!(f.minima(), [[1.0, 1.0]]);
/// assert_eq!((f.value([1.0, 1.0]), f.gradient([1.0, 1.0])), (0.0, [0.0, 0.0]));
/// // At the start the valley floor is far: f(-1.2, 1) = 2.2² + 100 · 0.44² = 24.2.
/// assert!((f.value(f.default_start()) - 24.2).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rosenbrock {
    pub a: f64,
    pub b: f64,
}

impl Default for Rosenbrock {
    fn default() -> Self {
        Rosenbrock { a: 1.0, b: 100.0 }
    }
}

impl Objective for Rosenbrock {
    fn name(&self) -> &'static str {
        "rosenbrock"
    }
    fn value(&self, [x, y]: [f64; 2]) -> f64 {
        let (u, w) = (self.a - x, y - x * x);
        u * u + self.b * w * w
    }
    fn gradient(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        let w = y - x * x;
        [-2.0 * (self.a - x) - 4.0 * self.b * x * w, 2.0 * self.b * w]
    }
    fn hessian(&self, [x, y]: [f64; 2]) -> [[f64; 2]; 2] {
        let b = self.b;
        let xy = -4.0 * b * x;
        [
            [2.0 - 4.0 * b * (y - x * x) + 8.0 * b * x * x, xy],
            [xy, 2.0 * b],
        ]
    }
    fn minima(&self) -> Vec<[f64; 2]> {
        vec![[self.a, self.a * self.a]]
    }
    fn default_start(&self) -> [f64; 2] {
        [-1.2, 1.0]
    }
    fn default_view(&self) -> ([f64; 2], [f64; 2]) {
        ([-2.0, -1.0], [2.0, 3.0])
    }
}

/// Beale's function `f(x, y) = Σ_{i=1..3} (c_i - x + x yⁱ)²`, `c = (1.5, 2.25, 2.625)`.
///
/// # Algorithm
/// With `t_i = c_i - x + x yⁱ`, `∇t_i = (yⁱ - 1, i x yⁱ⁻¹)` and
/// `∇²t_i = [[0, i yⁱ⁻¹], [i yⁱ⁻¹, i (i-1) x yⁱ⁻²]]`:
/// ```text
/// ∇f  = Σ 2 t_i ∇t_i
/// ∇²f = Σ 2 (∇t_i ∇t_iᵀ + t_i ∇²t_i)
/// ```
/// The global minimum is `(3, 0.5)` with `f = 0`, in a flat region with sharp ridges.
///
/// # Reference
/// E. M. L. Beale, "On an iterative method for finding a local minimum of a function of more
/// than one variable", Princeton University technical report 25 (1958).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Beale;

const BEALE_C: [f64; 3] = [1.5, 2.25, 2.625];

impl Beale {
    /// `(t_i, ∇t_i, ∇²t_i)` for `i = 1, 2, 3`.
    fn terms([x, y]: [f64; 2]) -> [(f64, [f64; 2], [[f64; 2]; 2]); 3] {
        std::array::from_fn(|k| {
            let i = (k + 1) as i32;
            let fi = i as f64;
            let t = BEALE_C[k] - x + x * y.powi(i);
            let grad = [y.powi(i) - 1.0, fi * x * y.powi(i - 1)];
            let xy = fi * y.powi(i - 1);
            let yy = if i >= 2 {
                fi * (fi - 1.0) * x * y.powi(i - 2)
            } else {
                0.0
            };
            (t, grad, [[0.0, xy], [xy, yy]])
        })
    }
}

impl Objective for Beale {
    fn name(&self) -> &'static str {
        "beale"
    }
    fn value(&self, p: [f64; 2]) -> f64 {
        Beale::terms(p).iter().map(|(t, _, _)| t * t).sum()
    }
    fn gradient(&self, p: [f64; 2]) -> [f64; 2] {
        Beale::terms(p).iter().fold([0.0; 2], |acc, (t, g, _)| {
            [acc[0] + 2.0 * t * g[0], acc[1] + 2.0 * t * g[1]]
        })
    }
    fn hessian(&self, p: [f64; 2]) -> [[f64; 2]; 2] {
        let mut h = [[0.0; 2]; 2];
        for (t, g, gg) in Beale::terms(p) {
            for (r, row) in h.iter_mut().enumerate() {
                for (c, v) in row.iter_mut().enumerate() {
                    *v += 2.0 * (g[r] * g[c] + t * gg[r][c]);
                }
            }
        }
        h
    }
    fn minima(&self) -> Vec<[f64; 2]> {
        vec![[3.0, 0.5]]
    }
    fn default_start(&self) -> [f64; 2] {
        [1.0, 1.5]
    }
    fn default_view(&self) -> ([f64; 2], [f64; 2]) {
        ([-4.5, -4.5], [4.5, 4.5])
    }
}

/// Himmelblau's function `f(x, y) = (x² + y - 11)² + (x + y² - 7)²`: four equal minima.
///
/// # Algorithm
/// With `u = x² + y - 11`, `w = x + y² - 7`:
/// ```text
/// ∇f  = (4 x u + 2 w,  2 u + 4 y w)
/// ∇²f = [[12x² + 4y - 42,  4x + 4y], [4x + 4y,  4x + 12y² - 26]]
/// ```
/// Minima (all `f = 0`): `(3, 2)` exactly, and three known numerically near
/// `(-2.805118, 3.131312)`, `(-3.779310, -3.283186)`, `(3.584428, -1.848126)`; [`minima`]
/// returns them polished to full precision by Newton steps.
///
/// [`minima`]: Objective::minima
///
/// # Reference
/// D. M. Himmelblau, "Applied Nonlinear Programming", McGraw-Hill (1972).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Himmelblau;

impl Objective for Himmelblau {
    fn name(&self) -> &'static str {
        "himmelblau"
    }
    fn value(&self, [x, y]: [f64; 2]) -> f64 {
        let (u, w) = (x * x + y - 11.0, x + y * y - 7.0);
        u * u + w * w
    }
    fn gradient(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        let (u, w) = (x * x + y - 11.0, x + y * y - 7.0);
        [4.0 * x * u + 2.0 * w, 2.0 * u + 4.0 * y * w]
    }
    fn hessian(&self, [x, y]: [f64; 2]) -> [[f64; 2]; 2] {
        let xy = 4.0 * x + 4.0 * y;
        [
            [12.0 * x * x + 4.0 * y - 42.0, xy],
            [xy, 4.0 * x + 12.0 * y * y - 26.0],
        ]
    }
    fn minima(&self) -> Vec<[f64; 2]> {
        let approx = [
            [-2.805118, 3.131312],
            [-3.779310, -3.283186],
            [3.584428, -1.848126],
        ];
        let mut m = vec![[3.0, 2.0]];
        m.extend(approx.iter().map(|&p| polish(self, p)));
        m
    }
    fn default_start(&self) -> [f64; 2] {
        [0.0, 0.0]
    }
    fn default_view(&self) -> ([f64; 2], [f64; 2]) {
        ([-5.0, -5.0], [5.0, 5.0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minima_have_zero_value() {
        let fs: [&dyn Objective; 3] = [&Rosenbrock::default(), &Beale, &Himmelblau];
        for f in fs {
            for m in f.minima() {
                assert!(f.value(m).abs() < 1e-20, "{} at {m:?}", f.name());
            }
        }
    }

    #[test]
    fn rosenbrock_minimum_moves_with_a() {
        let f = Rosenbrock { a: 2.0, b: 10.0 };
        assert_eq!(f.minima(), vec![[2.0, 4.0]]);
        assert_eq!(f.gradient([2.0, 4.0]), [0.0, 0.0]);
    }
}
