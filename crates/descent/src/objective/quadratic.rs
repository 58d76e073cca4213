//! Quadratic test functions (bowl, ill-conditioned valley, general quadratic) and the two
//! classic saddles.

use super::{solve2, Objective};

/// The round bowl `f(x, y) = x² + y²`.
///
/// # Algorithm
/// `∇f = (2x, 2y)`, `∇²f = 2 I`; the only minimum is the origin. Gradient descent converges
/// for `lr < 1` and reaches the minimum in one step at `lr = 0.5`.
///
/// # Reference
/// The first example of every gradient-descent lecture.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bowl;

impl Objective for Bowl {
    fn name(&self) -> &'static str {
        "bowl"
    }
    fn value(&self, [x, y]: [f64; 2]) -> f64 {
        x * x + y * y
    }
    fn gradient(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        [2.0 * x, 2.0 * y]
    }
    fn hessian(&self, _: [f64; 2]) -> [[f64; 2]; 2] {
        [[2.0, 0.0], [0.0, 2.0]]
    }
    fn minima(&self) -> Vec<[f64; 2]> {
        vec![[0.0, 0.0]]
    }
    fn default_start(&self) -> [f64; 2] {
        [-4.0, 3.0]
    }
    fn default_view(&self) -> ([f64; 2], [f64; 2]) {
        ([-5.0, -5.0], [5.0, 5.0])
    }
}

/// The narrow valley `f(x, y) = 0.5 (x² + κ y²)`, condition number `κ`.
///
/// # Algorithm
/// `∇f = (x, κ y)`, `∇²f = diag(1, κ)`. Plain gradient descent needs `lr < 2/κ` to be stable
/// and then crawls along `x` at rate `1 - lr`: the textbook case for momentum.
///
/// # Defaults
/// `kappa = 50`.
///
/// # Reference
/// Goh, "Why Momentum Really Works", Distill 2017.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IllConditioned {
    pub kappa: f64,
}

impl Default for IllConditioned {
    fn default() -> Self {
        IllConditioned { kappa: 50.0 }
    }
}

impl Objective for IllConditioned {
    fn name(&self) -> &'static str {
        "ill-conditioned"
    }
    fn value(&self, [x, y]: [f64; 2]) -> f64 {
        0.5 * (x * x + self.kappa * y * y)
    }
    fn gradient(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        [x, self.kappa * y]
    }
    fn hessian(&self, _: [f64; 2]) -> [[f64; 2]; 2] {
        [[1.0, 0.0], [0.0, self.kappa]]
    }
    fn minima(&self) -> Vec<[f64; 2]> {
        vec![[0.0, 0.0]]
    }
    fn default_start(&self) -> [f64; 2] {
        [-4.0, 1.0]
    }
    fn default_view(&self) -> ([f64; 2], [f64; 2]) {
        ([-5.0, -2.0], [5.0, 2.0])
    }
}

/// A general quadratic `f(v) = 0.5 vᵀ A v - bᵀ v`.
///
/// # Algorithm
/// With `S = (A + Aᵀ)/2`: `∇f = S v - b`, `∇²f = S`. When `S` is positive definite the only
/// minimum is `v* = S⁻¹ b`; otherwise there is none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quadratic {
    pub a: [[f64; 2]; 2],
    pub b: [f64; 2],
}

impl Quadratic {
    fn sym(&self) -> [[f64; 2]; 2] {
        let off = 0.5 * (self.a[0][1] + self.a[1][0]);
        [[self.a[0][0], off], [off, self.a[1][1]]]
    }
}

impl Objective for Quadratic {
    fn name(&self) -> &'static str {
        "quadratic"
    }
    fn value(&self, v: [f64; 2]) -> f64 {
        let a = self.a;
        let quad =
            v[0] * (a[0][0] * v[0] + a[0][1] * v[1]) + v[1] * (a[1][0] * v[0] + a[1][1] * v[1]);
        0.5 * quad - self.b[0] * v[0] - self.b[1] * v[1]
    }
    fn gradient(&self, v: [f64; 2]) -> [f64; 2] {
        let s = self.sym();
        [
            s[0][0] * v[0] + s[0][1] * v[1] - self.b[0],
            s[1][0] * v[0] + s[1][1] * v[1] - self.b[1],
        ]
    }
    fn hessian(&self, _: [f64; 2]) -> [[f64; 2]; 2] {
        self.sym()
    }
    fn minima(&self) -> Vec<[f64; 2]> {
        let s = self.sym();
        let det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
        if s[0][0] > 0.0 && det > 0.0 {
            solve2(s, self.b).into_iter().collect()
        } else {
            Vec::new()
        }
    }
    fn default_start(&self) -> [f64; 2] {
        [-4.0, 3.0]
    }
    fn default_view(&self) -> ([f64; 2], [f64; 2]) {
        ([-5.0, -5.0], [5.0, 5.0])
    }
}

/// The horse saddle `f(x, y) = x² - y²`: a stationary point at the origin that is no minimum.
///
/// # Algorithm
/// `∇f = (2x, -2y)`, `∇²f = diag(2, -2)`. Started exactly on `y = 0`, gradient descent
/// converges to the saddle; any `y ≠ 0` grows by `1 + 2 lr` per step and escapes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Saddle;

impl Objective for Saddle {
    fn name(&self) -> &'static str {
        "saddle"
    }
    fn value(&self, [x, y]: [f64; 2]) -> f64 {
        x * x - y * y
    }
    fn gradient(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        [2.0 * x, -2.0 * y]
    }
    fn hessian(&self, _: [f64; 2]) -> [[f64; 2]; 2] {
        [[2.0, 0.0], [0.0, -2.0]]
    }
    fn minima(&self) -> Vec<[f64; 2]> {
        Vec::new()
    }
    fn default_start(&self) -> [f64; 2] {
        [-4.0, 1e-3]
    }
    fn default_view(&self) -> ([f64; 2], [f64; 2]) {
        ([-5.0, -5.0], [5.0, 5.0])
    }
}

/// The monkey saddle `f(x, y) = x³ - 3 x y²`: a degenerate stationary point (zero Hessian)
/// with three descending valleys.
///
/// # Algorithm
/// `∇f = (3x² - 3y², -6xy)`, `∇²f = [[6x, -6y], [-6y, -6x]]`. Unbounded below; no minima.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MonkeySaddle;

impl Objective for MonkeySaddle {
    fn name(&self) -> &'static str {
        "monkey-saddle"
    }
    fn value(&self, [x, y]: [f64; 2]) -> f64 {
        x * x * x - 3.0 * x * y * y
    }
    fn gradient(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        [3.0 * x * x - 3.0 * y * y, -6.0 * x * y]
    }
    fn hessian(&self, [x, y]: [f64; 2]) -> [[f64; 2]; 2] {
        [[6.0 * x, -6.0 * y], [-6.0 * y, -6.0 * x]]
    }
    fn minima(&self) -> Vec<[f64; 2]> {
        Vec::new()
    }
    fn default_start(&self) -> [f64; 2] {
        [0.5, 0.3]
    }
    fn default_view(&self) -> ([f64; 2], [f64; 2]) {
        ([-2.0, -2.0], [2.0, 2.0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_minimum_solves_the_symmetric_system() {
        let q = Quadratic {
            a: [[3.0, 1.0], [0.0, 2.0]],
            b: [1.0, -2.0],
        };
        let m = q.minima()[0];
        let g = q.gradient(m);
        assert!(g[0].abs() < 1e-14 && g[1].abs() < 1e-14, "{g:?}");
        let indefinite = Quadratic {
            a: [[1.0, 0.0], [0.0, -1.0]],
            b: [0.0, 0.0],
        };
        assert!(indefinite.minima().is_empty());
    }

    #[test]
    fn ill_conditioned_hessian_has_kappa() {
        let f = IllConditioned { kappa: 10.0 };
        assert_eq!(f.hessian([1.0, 2.0]), [[1.0, 0.0], [0.0, 10.0]]);
        assert_eq!(f.value([2.0, 1.0]), 7.0);
    }
}
