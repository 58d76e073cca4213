//! The scalar type of tensors, parameters and gradients: `f32` or `f64`.
//!
//! Hyper-parameters (learning rates, betas, ...) are always `f64`, as Python floats are in
//! PyTorch; an optimizer computes its scalar coefficients in `f64` and converts them to `F`
//! once per step, exactly where PyTorch hands a Python float to a tensor kernel.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A floating-point element type (`f32` or `f64`).
pub trait Float:
    num_traits::Float
    + num_traits::FromPrimitive
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Default
    + Debug
    + Display
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// `"f32"` or `"f64"`, as written in `model.json` and on the command line.
    const NAME: &'static str;

    /// Converts from `f64` (rounding to nearest for `f32`).
    fn of(x: f64) -> Self;

    /// Widens to `f64` (exact).
    fn f64(self) -> f64;

    /// `log(1 + self)`: for `f64` [`crate::kernels::log1p::log1p`] (the same bits on every
    /// machine), for `f32` the C library's `log1pf`.
    fn log1p(self) -> Self;

    /// `e^self` with bits that do not depend on the machine: for `f64`
    /// [`crate::kernels::exp::exp`] (glibc's `exp` as built for CPUs with FMA, equal to it bit
    /// for bit there), for `f32` the C library's `expf`. The losses use it, so that the
    /// kernels can inline it and still give the tape's bits.
    fn exp_pinned(self) -> Self;

    /// Replaces each `x` by `x.log1p()`, bit for bit as one at a time (four at a time with
    /// AVX2 for `f64`).
    fn log1p_each(xs: &mut [Self]);
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    #[inline(always)]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn log1p(self) -> Self {
        self.ln_1p()
    }
    fn log1p_each(xs: &mut [Self]) {
        xs.iter_mut().for_each(|x| *x = x.ln_1p());
    }
    #[inline(always)]
    fn exp_pinned(self) -> Self {
        self.exp()
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn of(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn log1p(self) -> Self {
        crate::kernels::log1p::log1p(self)
    }
    fn log1p_each(xs: &mut [Self]) {
        crate::kernels::log1p::log1p_each(xs);
    }
    #[inline(always)]
    fn exp_pinned(self) -> Self {
        crate::kernels::exp::exp(self)
    }
}

/// The precision a run trains and a model predicts in, as a value (for specs and files).
///
/// # Example
/// ```
/// use descent::DType;
/// assert_eq!(DType::of::<f32>(), DType::F32);
/// assert_eq!("f64".parse::<DType>()?, DType::default());
/// assert_eq!(DType::F32.to_string(), "f32");
/// assert!("f16".parse::<DType>().is_err());
/// # Ok::<(), descent::Error>(())
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    F32,
    #[default]
    F64,
}

impl DType {
    /// `"f32"` or `"f64"`.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => f32::NAME,
            DType::F64 => f64::NAME,
        }
    }

    /// The dtype of `F`.
    pub fn of<F: Float>() -> Self {
        if F::NAME == f32::NAME {
            DType::F32
        } else {
            DType::F64
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DType {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "f32" => Ok(DType::F32),
            "f64" => Ok(DType::F64),
            other => Err(crate::Error::invalid("dtype", other, "must be f32 or f64")),
        }
    }
}
