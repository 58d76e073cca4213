//! Every autodiff op against central finite differences (f64).
//!
//! Each check builds `L = sum(r ⊙ op(inputs))` with a fixed random weighting `r`, so that every
//! output element contributes with a different weight, and compares dL/d(input) from the tape
//! with `(L(x + h) - L(x - h)) / 2h`, h = 1e-6. The error of central differences is O(h²) plus
//! rounding O(eps/h) ≈ 1e-10, so a relative tolerance of 1e-6 can only fail on a wrong
//! backward.

use descent::autodiff::{Tape, Var};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

type Build = dyn Fn(&mut Tape<f64>, &[Var]) -> Var;

fn random(rng: &mut ChaCha8Rng, shape: (usize, usize), lo: f64, hi: f64) -> Array2<f64> {
    Array2::from_shape_fn(shape, |_| rng.random_range(lo..hi))
}

/// The scalar `sum(r ⊙ f(inputs))` (or `f` itself when it is already a scalar loss).
fn objective(inputs: &[Array2<f64>], f: &Build, r: &Array2<f64>) -> (Tape<f64>, Vec<Var>, Var) {
    let mut tape = Tape::new();
    let vars: Vec<Var> = inputs.iter().map(|a| tape.param(a.clone())).collect();
    let out = f(&mut tape, &vars);
    let l = if tape.value(out).dim() == (1, 1) {
        out
    } else {
        let rv = tape.constant(r.clone());
        let weighted = tape.mul(out, rv).unwrap();
        tape.sum(weighted)
    };
    (tape, vars, l)
}

fn check(name: &str, inputs: Vec<Array2<f64>>, out_shape: (usize, usize), f: &Build) {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let r = random(&mut rng, out_shape, 0.5, 1.5);
    let (tape, vars, l) = objective(&inputs, f, &r);
    let grads = tape.backward(l);
    let h = 1e-6;
    for (k, v) in vars.iter().enumerate() {
        let g = grads
            .get(*v)
            .unwrap_or_else(|| panic!("{name}: no gradient for input {k}"));
        for idx in 0..inputs[k].len() {
            let eval = |delta: f64| {
                let mut shifted = inputs.clone();
                shifted[k].as_slice_mut().unwrap()[idx] += delta;
                let (t, _, l) = objective(&shifted, f, &r);
                t.scalar(l)
            };
            let fd = (eval(h) - eval(-h)) / (2.0 * h);
            let ad = g.as_slice().unwrap()[idx];
            assert!(
                (fd - ad).abs() <= 1e-6 * (1.0 + fd.abs()),
                "{name}: input {k}[{idx}]: autodiff {ad}, finite differences {fd}"
            );
        }
    }
}

#[test]
fn elementwise_binary_ops_with_broadcasting() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let a = random(&mut rng, (3, 4), -2.0, 2.0);
    let b = random(&mut rng, (3, 4), 0.5, 2.0);
    let row = random(&mut rng, (1, 4), 0.5, 2.0);
    let s = random(&mut rng, (1, 1), 0.5, 2.0);
    for rhs in [b, row, s] {
        check("add", vec![a.clone(), rhs.clone()], (3, 4), &|t, v| {
            t.add(v[0], v[1]).unwrap()
        });
        check("sub", vec![a.clone(), rhs.clone()], (3, 4), &|t, v| {
            t.sub(v[0], v[1]).unwrap()
        });
        check("mul", vec![a.clone(), rhs.clone()], (3, 4), &|t, v| {
            t.mul(v[0], v[1]).unwrap()
        });
        check("div", vec![a.clone(), rhs.clone()], (3, 4), &|t, v| {
            t.div(v[0], v[1]).unwrap()
        });
    }
}

#[test]
fn unary_ops() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let a = random(&mut rng, (2, 5), -2.0, 2.0);
    let pos = random(&mut rng, (2, 5), 0.3, 3.0);
    check("neg", vec![a.clone()], (2, 5), &|t, v| t.neg(v[0]));
    check("exp", vec![a.clone()], (2, 5), &|t, v| t.exp(v[0]));
    check("log", vec![pos.clone()], (2, 5), &|t, v| t.log(v[0]));
    check("powf", vec![pos.clone()], (2, 5), &|t, v| t.powf(v[0], 2.5));
    check("square", vec![a.clone()], (2, 5), &|t, v| t.square(v[0]));
    check("sigmoid", vec![a.clone()], (2, 5), &|t, v| t.sigmoid(v[0]));
    check("tanh", vec![a.clone()], (2, 5), &|t, v| t.tanh(v[0]));
    // relu away from its kink at 0
    let away = a.mapv(|x| if x.abs() < 0.1 { 0.5 } else { x });
    check("relu", vec![away], (2, 5), &|t, v| t.relu(v[0]));
    check("sum", vec![a.clone()], (1, 1), &|t, v| t.sum(v[0]));
    check("mean", vec![a], (1, 1), &|t, v| t.mean(v[0]));
}

#[test]
fn matmul_and_linear() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x = random(&mut rng, (4, 3), -1.0, 1.0);
    let m = random(&mut rng, (3, 2), -1.0, 1.0);
    let w = random(&mut rng, (2, 3), -1.0, 1.0);
    let b = random(&mut rng, (1, 2), -1.0, 1.0);
    check("matmul", vec![x.clone(), m], (4, 2), &|t, v| {
        t.matmul(v[0], v[1]).unwrap()
    });
    check("linear", vec![x.clone(), w.clone(), b], (4, 2), &|t, v| {
        t.linear(v[0], v[1], Some(v[2])).unwrap()
    });
    check("linear without bias", vec![x, w], (4, 2), &|t, v| {
        t.linear(v[0], v[1], None).unwrap()
    });
}

#[test]
fn fused_losses() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let p = random(&mut rng, (5, 2), -3.0, 3.0);
    let t = random(&mut rng, (5, 2), -3.0, 3.0);
    let labels01 = Array2::from_shape_fn((5, 2), |(i, j)| ((i + j) % 2) as f64);
    let classes = Array2::from_shape_vec((5, 1), vec![0.0, 1.0, 1.0, 0.0, 1.0]).unwrap();
    let with_target = |target: Array2<f64>, f: fn(&mut Tape<f64>, Var, Var) -> Var| {
        move |tape: &mut Tape<f64>, v: &[Var]| {
            let tv = tape.constant(target.clone());
            f(tape, v[0], tv)
        }
    };
    check(
        "mse",
        vec![p.clone()],
        (1, 1),
        &with_target(t.clone(), |tp, a, b| tp.mse_loss(a, b).unwrap()),
    );
    // MAE and Huber away from their kinks
    let far = &t + 0.5;
    check(
        "mae",
        vec![p.clone()],
        (1, 1),
        &with_target(far.clone(), |tp, a, b| tp.mae_loss(a, b).unwrap()),
    );
    check(
        "huber",
        vec![p.clone()],
        (1, 1),
        &with_target(far, |tp, a, b| tp.huber_loss(a, b, 1.0).unwrap()),
    );
    check(
        "bce_with_logits",
        vec![p.clone()],
        (1, 1),
        &with_target(labels01, |tp, a, b| tp.bce_with_logits(a, b).unwrap()),
    );
    check(
        "cross_entropy",
        vec![p],
        (1, 1),
        &with_target(classes, |tp, a, b| tp.cross_entropy(a, b).unwrap()),
    );
}

#[test]
fn composite_graph_accumulates_gradients_from_reused_nodes() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let a = random(&mut rng, (3, 3), -1.0, 1.0);
    check("a*a + tanh(a)·a", vec![a], (3, 3), &|t, v| {
        let sq = t.mul(v[0], v[0]).unwrap();
        let th = t.tanh(v[0]);
        let mm = t.matmul(th, v[0]).unwrap();
        t.add(sq, mm).unwrap()
    });
}

#[test]
fn shape_errors_name_the_op() {
    let mut t = Tape::<f64>::new();
    let a = t.param(Array2::zeros((2, 3)));
    let b = t.param(Array2::zeros((3, 2)));
    let e = t.add(a, b).unwrap_err().to_string();
    assert!(
        e.contains("add") && e.contains("[2, 3]") && e.contains("[3, 2]"),
        "{e}"
    );
    let c = t.constant(Array2::from_elem((2, 1), 5.0));
    let e = t.cross_entropy(a, c).unwrap_err().to_string();
    assert!(e.contains("class label 5"), "{e}");
}

#[test]
fn stable_losses_do_not_overflow() {
    let mut t = Tape::<f64>::new();
    let z = t.param(Array2::from_shape_vec((2, 1), vec![1000.0, -1000.0]).unwrap());
    let y = t.constant(Array2::from_shape_vec((2, 1), vec![0.0, 1.0]).unwrap());
    let l = t.bce_with_logits(z, y).unwrap();
    assert_eq!(t.scalar(l), 1000.0);
    let g = t.backward(l);
    assert_eq!(g.get(z).unwrap().as_slice().unwrap(), &[0.5, -0.5]);
}
