//! Parameters: one flat buffer with named, shaped views, and their initialisation.
//!
//! A model's weights and biases live in one contiguous `Vec<F>`; gradients live in a buffer of
//! the same layout. So an optimizer step is one pass over memory, a checkpoint is one array,
//! and (later) an all-reduce across processes is one call. Each view is row-major with the
//! shape of its tensor (`[out][in]` for a linear layer's weight, as `torch.nn.Linear`).

use std::ops::Range;

use ndarray::{ArrayView2, ArrayViewMut2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};
use serde::{Deserialize, Serialize};

use crate::{Error, Float, Result};

/// Where one named tensor sits in the flat buffer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamView {
    /// `layer0.weight`, `layer0.bias`, ...
    pub name: String,
    /// `(rows, cols)`; a bias is `(1, out)`.
    pub shape: (usize, usize),
    /// Index of the first element in the flat buffer.
    pub offset: usize,
    /// Fan-in used by PyTorch's default initialisation of this tensor.
    pub fan_in: usize,
}

impl ParamView {
    /// The range of the flat buffer this view covers.
    pub fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.shape.0 * self.shape.1
    }

    /// Whether this is a bias (by name), for per-group options such as "no decay on biases".
    pub fn is_bias(&self) -> bool {
        self.name.ends_with(".bias")
    }
}

/// The layout of a parameter buffer: the list of views, in order, covering it exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    views: Vec<ParamView>,
}

impl Layout {
    /// Appends a `rows x cols` tensor named `name` and returns its index.
    pub fn push(&mut self, name: impl Into<String>, shape: (usize, usize), fan_in: usize) -> usize {
        let offset = self.len();
        self.views.push(ParamView {
            name: name.into(),
            shape,
            offset,
            fan_in,
        });
        self.views.len() - 1
    }

    /// Total number of scalars.
    pub fn len(&self) -> usize {
        self.views.last().map_or(0, |v| v.range().end)
    }

    /// Whether there are no parameters at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The views, in buffer order.
    pub fn views(&self) -> &[ParamView] {
        &self.views
    }

    /// The view named `name`.
    pub fn find(&self, name: &str) -> Option<&ParamView> {
        self.views.iter().find(|v| v.name == name)
    }
}

/// How to fill a fresh parameter buffer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Init {
    /// Every parameter 0.
    Zeros,
    /// Every parameter the same value (the classic lessons start from `w = 1`).
    Constant(f64),
    /// Independent normal draws with mean 0 and the given standard deviation; biases 0.
    Normal { std: f64, seed: u64 },
    /// PyTorch's default for `nn.Linear`: weight and bias uniform in `±1/sqrt(fan_in)`
    /// (the same bounds as torch's; the random stream is ChaCha8, not torch's generator).
    Torch { seed: u64 },
}

/// A flat parameter buffer and its layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Params<F: Float> {
    pub layout: Layout,
    pub values: Vec<F>,
}

impl<F: Float> Params<F> {
    /// A buffer for `layout` filled by `init`.
    ///
    /// # Example
    /// ```
    /// use descent::nn::ModelKind;
    /// use descent::params::{Init, Params};
    /// // A linear model over 3 features: a 1 x 3 weight, then a bias.
    /// let layout = ModelKind::Linear.build(3, 1)?.layout();
    /// let ones = Params::<f64>::init(layout.clone(), &Init::Constant(1.0))?;
    /// assert_eq!(ones.values, [1.0; 4]);
    /// // torch's default: weight and bias uniform in ±1/sqrt(fan_in), the same draws for a seed.
    /// let torch = Params::<f64>::init(layout.clone(), &Init::Torch { seed: 3 })?;
    /// assert!(torch.values.iter().all(|v| v.abs() <= 1.0 / 3f64.sqrt()));
    /// assert_eq!(torch, Params::init(layout, &Init::Torch { seed: 3 })?);
    /// # Ok::<(), descent::Error>(())
    /// ```
    pub fn init(layout: Layout, init: &Init) -> Result<Self> {
        check_size::<F>(layout.len())?;
        let mut values = crate::data::memory::huge_filled(layout.len(), F::zero());
        match *init {
            Init::Zeros => {}
            Init::Constant(c) => {
                if !c.is_finite() {
                    return Err(Error::invalid("init", c, "must be a finite number"));
                }
                values.fill(F::of(c));
            }
            Init::Normal { std, seed } => {
                let normal = Normal::new(0.0, std)
                    .map_err(|_| Error::invalid("init std", std, "must be finite and >= 0"))?;
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                for v in layout.views().iter().filter(|v| !v.is_bias()) {
                    for x in &mut values[v.range()] {
                        *x = F::of(normal.sample(&mut rng));
                    }
                }
            }
            Init::Torch { seed } => {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                for v in layout.views() {
                    let bound = 1.0 / (v.fan_in.max(1) as f64).sqrt();
                    let uniform = Uniform::new_inclusive(-bound, bound)
                        .map_err(|e| Error::invalid("init", bound, e.to_string()))?;
                    for x in &mut values[v.range()] {
                        *x = F::of(uniform.sample(&mut rng));
                    }
                }
            }
        }
        Ok(Params { layout, values })
    }

    /// A buffer for `layout` with the given values (e.g. loaded from `model.json`).
    pub fn from_values(layout: Layout, values: Vec<F>) -> Result<Self> {
        if values.len() != layout.len() {
            return Err(Error::State(format!(
                "{} parameter values for a layout of {}",
                values.len(),
                layout.len()
            )));
        }
        Ok(Params { layout, values })
    }

    /// Number of scalars.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The tensor at view index `i`.
    pub fn view(&self, i: usize) -> ArrayView2<'_, F> {
        let v = &self.layout.views()[i];
        ArrayView2::from_shape(v.shape, &self.values[v.range()]).expect("layout covers buffer")
    }

    /// The tensor at view index `i`, mutable.
    pub fn view_mut(&mut self, i: usize) -> ArrayViewMut2<'_, F> {
        let v = &self.layout.views()[i];
        let (shape, range) = (v.shape, v.range());
        ArrayViewMut2::from_shape(shape, &mut self.values[range]).expect("layout covers buffer")
    }

    /// The tensor named `name`.
    pub fn get(&self, name: &str) -> Option<ArrayView2<'_, F>> {
        let i = self.layout.views().iter().position(|v| v.name == name)?;
        Some(self.view(i))
    }

    /// The same parameters in another precision.
    pub fn cast<G: Float>(&self) -> Params<G> {
        Params {
            layout: self.layout.clone(),
            values: self.values.iter().map(|x| G::of(x.f64())).collect(),
        }
    }
}

/// The L2 norm of a flat buffer, accumulated in `f64`.
pub fn l2_norm<F: Float>(xs: &[F]) -> f64 {
    xs.iter().map(|x| x.f64() * x.f64()).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        let mut l = Layout::default();
        l.push("layer0.weight", (3, 2), 2);
        l.push("layer0.bias", (1, 3), 2);
        l
    }

    #[test]
    fn views_are_contiguous_and_named() {
        let p = Params::<f64>::init(layout(), &Init::Constant(1.5)).unwrap();
        assert_eq!(p.len(), 9);
        assert_eq!(p.layout.find("layer0.bias").unwrap().range(), 6..9);
        assert_eq!(p.get("layer0.weight").unwrap().dim(), (3, 2));
        assert!(p.values.iter().all(|&x| x == 1.5));
    }

    #[test]
    fn torch_init_respects_fan_in_bound_and_seed() {
        let a = Params::<f64>::init(layout(), &Init::Torch { seed: 7 }).unwrap();
        let b = Params::<f64>::init(layout(), &Init::Torch { seed: 7 }).unwrap();
        let c = Params::<f64>::init(layout(), &Init::Torch { seed: 8 }).unwrap();
        let bound = 1.0 / 2f64.sqrt();
        assert!(a.values.iter().all(|x| x.abs() <= bound));
        assert_eq!(a, b);
        assert_ne!(a.values, c.values);
    }

    #[test]
    fn normal_init_leaves_biases_zero() {
        let p = Params::<f32>::init(layout(), &Init::Normal { std: 0.1, seed: 1 }).unwrap();
        assert!(p.get("layer0.bias").unwrap().iter().all(|&x| x == 0.0));
        assert!(p.get("layer0.weight").unwrap().iter().any(|&x| x != 0.0));
    }

    #[test]
    fn wrong_length_is_an_error() {
        assert!(Params::<f64>::from_values(layout(), vec![0.0; 4]).is_err());
    }
}

/// Copies of the parameter buffer a run keeps: the parameters, their gradient, the best
/// parameters and the epoch's start, and up to three optimizer buffers.
const RUN_COPIES: u64 = 7;

/// Refuses, before anything is allocated, a parameter count whose run would not fit in the
/// memory this machine has available (Linux `MemAvailable`; elsewhere 1 TiB is assumed).
pub fn check_size<F: Float>(n_params: usize) -> Result<()> {
    let bytes = (n_params as u64).saturating_mul(std::mem::size_of::<F>() as u64);
    let needed = bytes.saturating_mul(RUN_COPIES);
    let available = available_memory();
    if needed > available {
        return Err(Error::invalid(
            "model size",
            format!("{n_params} parameters"),
            format!(
                "{} per copy in {}; a run keeps about {RUN_COPIES} copies ({}), more than the {} of memory available: use fewer or narrower layers",
                human_bytes(bytes),
                F::NAME,
                human_bytes(needed),
                human_bytes(available)
            ),
        ));
    }
    Ok(())
}

/// Bytes of memory available to a new allocation.
fn available_memory() -> u64 {
    let from_meminfo = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        });
    from_meminfo.unwrap_or(1 << 40)
}

/// `1.5 GiB`, `312 MiB`, `12 KiB`, `100 B`.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{b} B"),
        _ => format!("{v:.1} {}", UNITS[unit]),
    }
}

impl Init {
    /// `zeros`, `torch` (uniform ±1/sqrt(fan_in), seeded), `normal:STD` (seeded) or a number.
    ///
    /// # Example
    /// ```
    /// use descent::params::Init;
    /// assert_eq!(Init::parse("zeros", 0)?, Init::Zeros);
    /// assert_eq!(Init::parse("0.5", 0)?, Init::Constant(0.5));
    /// assert_eq!(Init::parse("normal:0.01", 7)?, Init::Normal { std: 0.01, seed: 7 });
    /// assert_eq!(Init::parse("torch", 7)?, Init::Torch { seed: 7 });
    /// assert!(Init::parse("normal:-1", 0).is_err());
    /// # Ok::<(), descent::Error>(())
    /// ```
    pub fn parse(text: &str, seed: u64) -> Result<Self> {
        let bad = |reason: &str| Error::Parse {
            what: "init",
            spec: text.to_string(),
            reason: reason.to_string(),
        };
        Ok(match text {
            "zeros" => Init::Zeros,
            "torch" => Init::Torch { seed },
            _ => match text.strip_prefix("normal:") {
                Some(std) => Init::Normal {
                    std: std
                        .parse()
                        .ok()
                        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                        .ok_or_else(|| bad("normal:STD needs a finite STD >= 0"))?,
                    seed,
                },
                None => Init::Constant(
                    text.parse()
                        .ok()
                        .filter(|v: &f64| v.is_finite())
                        .ok_or_else(|| bad("must be zeros, torch, normal:STD or a number"))?,
                ),
            },
        })
    }
}

/// A readable name for every scalar parameter: for a linear model with one output `w` and `b`
/// (one feature) or `w(FEATURE)` and `b` (several), else the view name with its index, e.g.
/// `layer1.weight[0,1]`.
///
/// # Example
/// ```
/// use descent::nn::{Activation, ModelKind};
/// use descent::params::scalar_names;
/// let features = ["age".to_string(), "bmi".to_string()];
/// let line = ModelKind::Linear.build(2, 1)?.layout();
/// assert_eq!(scalar_names(&line, &features), ["w(age)", "w(bmi)", "b"]);
/// let mlp = ModelKind::Mlp { hidden: vec![3], activation: Activation::Tanh };
/// let names = scalar_names(&mlp.build(2, 1)?.layout(), &features);
/// assert_eq!(names.len(), 2 * 3 + 3 + 3 + 1);
/// assert_eq!(names[1], "layer0.weight[0,1]");
/// # Ok::<(), descent::Error>(())
/// ```
pub fn scalar_names(layout: &Layout, features: &[String]) -> Vec<String> {
    let views = layout.views();
    let line = views.len() <= 2
        && views[0].shape.0 == 1
        && views[0].shape.1 == features.len()
        && views
            .iter()
            .skip(1)
            .all(|v| v.is_bias() && v.shape == (1, 1));
    if line {
        let mut names: Vec<String> = if features.len() == 1 {
            vec!["w".into()]
        } else {
            features.iter().map(|f| format!("w({f})")).collect()
        };
        if views.len() == 2 {
            names.push("b".into());
        }
        return names;
    }
    let mut names = Vec::with_capacity(layout.len());
    for v in views {
        for k in 0..v.shape.0 * v.shape.1 {
            names.push(if v.shape == (1, 1) {
                v.name.clone()
            } else {
                format!("{}[{},{}]", v.name, k / v.shape.1, k % v.shape.1)
            });
        }
    }
    names
}

#[cfg(test)]
mod size_tests {
    use super::*;
    use crate::nn::ModelKind;

    #[test]
    fn absurd_models_are_refused_before_allocating() {
        let kind = ModelKind::parse(
            "mlp",
            &[100_000, 100_000, 100_000],
            crate::nn::Activation::Relu,
        )
        .unwrap();
        let model = kind.build(10, 1).unwrap();
        let e = Params::<f64>::init(model.layout(), &Init::Zeros)
            .unwrap_err()
            .to_string();
        let n = model.layout().len();
        assert_eq!(
            n,
            10 * 100_000 + 2 * 100_000 * 100_000 + 100_000 + 3 * 100_000 + 1
        );
        assert!(
            e.contains(&format!("{n} parameters")) && e.contains("GiB"),
            "{e}"
        );
        assert!(check_size::<f32>(1000).is_ok());
    }

    #[test]
    fn scalar_names_are_w_and_b_for_a_line_else_indexed() {
        let line = ModelKind::Linear.build(1, 1).unwrap();
        assert_eq!(scalar_names(&line.layout(), &["x".into()]), ["w", "b"]);
        let plane = ModelKind::LinearNobias.build(2, 1).unwrap();
        let features = ["x1".to_string(), "x2".to_string()];
        assert_eq!(scalar_names(&plane.layout(), &features), ["w(x1)", "w(x2)"]);
        let two = ModelKind::Linear.build(2, 2).unwrap();
        assert_eq!(
            scalar_names(&two.layout(), &features)[1],
            "layer0.weight[0,1]"
        );
    }

    #[test]
    fn init_parses_every_form() {
        assert_eq!(Init::parse("zeros", 1).unwrap(), Init::Zeros);
        assert_eq!(Init::parse("torch", 4).unwrap(), Init::Torch { seed: 4 });
        assert_eq!(
            Init::parse("normal:0.5", 2).unwrap(),
            Init::Normal { std: 0.5, seed: 2 }
        );
        assert_eq!(Init::parse("1.5", 2).unwrap(), Init::Constant(1.5));
        assert!(Init::parse("normal:-1", 2).is_err());
        assert!(Init::parse("nan", 2).is_err());
        assert!(Init::parse("big", 2).is_err());
    }
}
