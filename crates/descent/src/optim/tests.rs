//! Unit tests of the optimizers as a whole: defaults, validation, the option map, state
//! save/load, parameter groups, and the momentum-EMA equivalence. (The torch-exact update
//! rules are checked against PyTorch by the `oracle` integration test.)

use serde_json::json;

use super::*;

/// A deterministic gradient sequence with exact zeros sprinkled in (no RNG dependency).
fn gradients(n: usize, steps: usize) -> Vec<Vec<f64>> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..steps)
        .map(|k| {
            (0..n)
                .map(|i| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let u = (state >> 11) as f64 / (1u64 << 53) as f64;
                    if (k + i) % 7 == 3 {
                        0.0
                    } else {
                        2.0 * u - 1.0
                    }
                })
                .collect()
        })
        .collect()
}

fn one_group(n: usize) -> Vec<(GroupRange, GroupOptions)> {
    vec![(0..n, GroupOptions::default())]
}

#[test]
fn defaults_equal_torch() {
    assert_eq!(
        Sgd::default(),
        Sgd {
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false
        }
    );
    assert_eq!(
        Adagrad::default(),
        Adagrad {
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false
        }
    );
    assert_eq!(
        RmsProp::default(),
        RmsProp {
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false
        }
    );
    assert_eq!(
        Adam::default(),
        Adam {
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false
        }
    );
    assert_eq!(
        AdamW::default(),
        AdamW {
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
            maximize: false
        }
    );
    assert_eq!(
        Adamax::default(),
        Adamax {
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            maximize: false
        }
    );
    assert_eq!(
        NAdam::default(),
        NAdam {
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
            maximize: false
        }
    );
    assert_eq!(
        RAdam::default(),
        RAdam {
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            maximize: false
        }
    );
    assert_eq!(
        Adadelta::default(),
        Adadelta {
            rho: 0.9,
            eps: 1e-6,
            weight_decay: 0.0,
            maximize: false
        }
    );
    assert_eq!(
        Asgd::default(),
        Asgd {
            lambd: 1e-4,
            alpha: 0.75,
            t0: 1e6,
            weight_decay: 0.0,
            maximize: false
        }
    );
    assert_eq!(
        Rprop::default(),
        Rprop {
            etas: (0.5, 1.2),
            step_sizes: (1e-6, 50.0),
            maximize: false
        }
    );
    // torch's default learning rates.
    let lrs = [
        ("SGD", 1e-3),
        ("Adagrad", 1e-2),
        ("RMSprop", 1e-2),
        ("Adam", 1e-3),
        ("AdamW", 1e-3),
        ("Adamax", 2e-3),
        ("NAdam", 2e-3),
        ("RAdam", 1e-3),
        ("Adadelta", 1.0),
        ("ASGD", 1e-2),
        ("Rprop", 1e-2),
    ];
    for (name, lr) in lrs {
        assert_eq!(OptimizerSpec::new(name).lr().unwrap(), lr, "{name}");
    }
}

fn message(result: Result<()>) -> String {
    result.expect_err("should be rejected").to_string()
}

#[test]
fn validation_names_the_field_and_the_rule() {
    let adam = Adam {
        betas: (1.0, 0.999),
        ..Adam::default()
    };
    assert_eq!(
        message(adam.validate(1e-3)),
        "invalid value for betas.0: 1 (must be in [0, 1))"
    );
    let adam = Adam {
        betas: (0.9, -0.1),
        ..Adam::default()
    };
    assert!(message(adam.validate(1e-3)).contains("betas.1"));
    assert!(message(Adam::default().validate(-1.0)).contains("lr"));
    assert!(message(Adam::default().validate(f64::NAN)).contains("lr"));
    let sgd = Sgd {
        nesterov: true,
        ..Sgd::default()
    };
    assert!(message(sgd.validate(0.1)).contains("nesterov needs momentum > 0"));
    let adadelta = Adadelta {
        rho: 1.5,
        ..Adadelta::default()
    };
    assert!(message(adadelta.validate(1.0)).contains("rho"));
    let rprop = Rprop {
        etas: (1.5, 1.2),
        ..Rprop::default()
    };
    assert!(message(rprop.validate(0.1)).contains("etas.0: 1.5 (must be in (0, 1))"));
    let rmsprop = RmsProp {
        eps: -1.0,
        ..RmsProp::default()
    };
    assert!(message(rmsprop.validate(0.1)).contains("eps"));
    let adagrad = Adagrad {
        initial_accumulator_value: -1.0,
        ..Adagrad::default()
    };
    assert!(message(adagrad.validate(0.1)).contains("initial_accumulator_value"));
    let nadam = NAdam {
        momentum_decay: -1.0,
        ..NAdam::default()
    };
    assert!(message(nadam.validate(0.1)).contains("momentum_decay"));
    let asgd = Asgd {
        weight_decay: -1.0,
        ..Asgd::default()
    };
    assert!(message(asgd.validate(0.1)).contains("weight_decay"));
}

#[test]
fn spec_accepts_cli_and_torch_names() {
    for name in names() {
        assert_eq!(OptimizerSpec::new(name).canonical_name().unwrap(), *name);
        let opt = OptimizerSpec::new(name).build::<f64>(one_group(3)).unwrap();
        assert!(!opt.name().is_empty());
    }
    assert_eq!(
        OptimizerSpec::new("RMSprop").canonical_name().unwrap(),
        "rmsprop"
    );
    assert_eq!(OptimizerSpec::new("ASGD").canonical_name().unwrap(), "asgd");
    let err = OptimizerSpec::new("adamm").canonical_name().unwrap_err();
    assert!(err.to_string().contains("unknown optimizer"), "{err}");
    assert!(err.to_string().contains("adamw"), "{err}");
}

#[test]
fn spec_rejects_foreign_options_and_wrong_types() {
    let err = OptimizerSpec::new("sgd")
        .with("betas", json!([0.9, 0.99]))
        .build::<f64>(one_group(2))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("option `betas` does not apply to sgd; it takes: lr, momentum"),
        "{err}"
    );
    let err = OptimizerSpec::new("adam")
        .with("amsgrad", 1.0)
        .build::<f64>(one_group(2))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("amsgrad") && err.contains("true or false"),
        "{err}"
    );
    let err = OptimizerSpec::new("adam")
        .with("betas", json!([0.9]))
        .build::<f64>(one_group(2))
        .unwrap_err()
        .to_string();
    assert!(err.contains("betas") && err.contains("pair"), "{err}");
    let err = OptimizerSpec::new("adam")
        .with("lr", "fast")
        .build::<f64>(one_group(2))
        .unwrap_err()
        .to_string();
    assert!(err.contains("lr") && err.contains("number"), "{err}");
    let err = OptimizerSpec::new("adam")
        .with("betas", json!([0.9, 1.0]))
        .build::<f64>(one_group(2))
        .unwrap_err()
        .to_string();
    assert!(err.contains("betas.1"), "{err}");
    let err = OptimizerSpec::new("adam")
        .with("lr", -0.1)
        .build::<f64>(one_group(2))
        .unwrap_err()
        .to_string();
    assert!(err.contains("lr"), "{err}");
    // AdamW always decouples: the switch is not one of its options (as in torch).
    assert!(OptimizerSpec::new("adamw")
        .with("decoupled_weight_decay", true)
        .build::<f64>(one_group(2))
        .is_err());
    // A group's weight-decay override is validated too.
    let groups = vec![(
        0..2,
        GroupOptions {
            weight_decay: Some(-1.0),
        },
    )];
    assert!(OptimizerSpec::new("adam").build::<f64>(groups).is_err());
    assert_eq!(
        OptimizerSpec::known_options("Rprop").unwrap(),
        &["lr", "etas", "step_sizes", "maximize"]
    );
}

/// Every optimizer, with options that switch on all of its state.
fn all_specs() -> Vec<OptimizerSpec> {
    vec![
        OptimizerSpec::new("sgd")
            .with("momentum", 0.9)
            .with("nesterov", true)
            .with("weight_decay", 0.01),
        OptimizerSpec::new("momentum-ema").with("beta", 0.8),
        OptimizerSpec::new("adagrad").with("lr_decay", 0.01),
        OptimizerSpec::new("rmsprop")
            .with("momentum", 0.5)
            .with("centered", true),
        OptimizerSpec::new("adam").with("amsgrad", true),
        OptimizerSpec::new("adamw"),
        OptimizerSpec::new("adamax"),
        OptimizerSpec::new("nadam"),
        OptimizerSpec::new("radam"),
        OptimizerSpec::new("adadelta"),
        OptimizerSpec::new("asgd").with("t0", 3.0),
        OptimizerSpec::new("rprop"),
        OptimizerSpec::new("sign"),
    ]
}

#[test]
fn saved_state_continues_bit_identically() {
    let n = 6;
    let grads = gradients(n, 20);
    for spec in all_specs() {
        let lr = spec.lr().unwrap();
        let mut a = spec.build::<f64>(one_group(n)).unwrap();
        let mut pa = vec![0.5; n];
        for g in &grads[..10] {
            a.step(lr, &mut pa, g);
        }
        // Through text, as a checkpoint file would be.
        let text = serde_json::to_string(&a.save_state()).unwrap();
        let mut b = spec.build::<f64>(one_group(n)).unwrap();
        b.load_state(&serde_json::from_str(&text).unwrap()).unwrap();
        let mut pb = pa.clone();
        for g in &grads[10..] {
            a.step(lr, &mut pa, g);
            b.step(lr, &mut pb, g);
        }
        assert_eq!(pa, pb, "{}", spec.name);
        assert_eq!(a.averaged(), b.averaged(), "{}", spec.name);
    }
}

#[test]
fn state_of_another_layout_is_rejected() {
    let a = OptimizerSpec::new("adam")
        .build::<f64>(one_group(3))
        .unwrap();
    let mut b = OptimizerSpec::new("adam")
        .build::<f64>(one_group(4))
        .unwrap();
    assert!(b.load_state(&a.save_state()).is_err());
    let mut c = OptimizerSpec::new("sgd")
        .build::<f64>(one_group(3))
        .unwrap();
    assert!(c.load_state(&a.save_state()).is_err());
}

#[test]
fn no_decay_group_equals_separate_optimizers() {
    // Weights in 0..3 with weight decay, "biases" in 3..5 without, as torch param_groups.
    let grads = gradients(5, 15);
    for (name, wd) in [("sgd", 0.1), ("adam", 0.1), ("adamw", 0.1), ("nadam", 0.1)] {
        let spec = OptimizerSpec::new(name)
            .with("lr", 0.05)
            .with("weight_decay", wd);
        let groups = vec![
            (0..3, GroupOptions::default()),
            (
                3..5,
                GroupOptions {
                    weight_decay: Some(0.0),
                },
            ),
        ];
        let mut grouped = spec.build::<f64>(groups).unwrap();
        let mut weights = spec.build::<f64>(one_group(3)).unwrap();
        let mut biases = spec
            .clone()
            .with("weight_decay", 0.0)
            .build::<f64>(one_group(2))
            .unwrap();
        let mut p = vec![1.0, -2.0, 0.5, 0.3, -0.7];
        let (mut w, mut b) = (p[..3].to_vec(), p[3..].to_vec());
        for g in &grads {
            grouped.step(0.05, &mut p, g);
            weights.step(0.05, &mut w, &g[..3]);
            biases.step(0.05, &mut b, &g[3..]);
        }
        assert_eq!(&p[..3], &w[..], "{name}");
        assert_eq!(&p[3..], &b[..], "{name}");
    }
}

#[test]
fn momentum_ema_is_the_explicit_ema() {
    let beta = 0.8;
    let lr = 0.1;
    let grads = gradients(4, 25);
    let mut opt = OptimizerSpec::new("momentum-ema")
        .with("lr", lr)
        .with("beta", beta)
        .build::<f64>(one_group(4))
        .unwrap();
    let mut p = vec![1.0, 2.0, -1.0, 0.0];
    let mut q = p.clone();
    let mut v: Vec<f64> = Vec::new();
    for g in &grads {
        opt.step(lr, &mut p, g);
        if v.is_empty() {
            v = g.clone();
        } else {
            for (v, &g) in v.iter_mut().zip(g) {
                *v = beta * *v + (1.0 - beta) * g;
            }
        }
        for (q, &v) in q.iter_mut().zip(&v) {
            *q -= lr * v;
        }
        assert_eq!(p, q);
    }
    assert_eq!(
        Sgd::momentum_ema(beta),
        Sgd {
            momentum: beta,
            dampening: beta,
            ..Sgd::default()
        }
    );
}

#[test]
fn momentum_is_exposed_for_one_cycle() {
    let mut adam = OptimizerSpec::new("adam")
        .build::<f64>(one_group(1))
        .unwrap();
    assert_eq!(adam.momentum(), Some(0.9));
    adam.set_momentum(0.85);
    assert_eq!(adam.momentum(), Some(0.85));
    let sgd = OptimizerSpec::new("sgd")
        .with("momentum", 0.9)
        .build::<f64>(one_group(1))
        .unwrap();
    assert_eq!(sgd.momentum(), Some(0.9));
    let rmsprop = OptimizerSpec::new("rmsprop")
        .build::<f64>(one_group(1))
        .unwrap();
    assert_eq!(rmsprop.momentum(), Some(0.0));
    let adagrad = OptimizerSpec::new("adagrad")
        .build::<f64>(one_group(1))
        .unwrap();
    assert_eq!(adagrad.momentum(), None);
}

#[test]
fn sign_descent_moves_by_lr_and_not_at_zero() {
    let mut opt = OptimizerSpec::new("sign")
        .build::<f64>(one_group(3))
        .unwrap();
    let mut p = vec![1.0, 1.0, 1.0];
    opt.step(0.25, &mut p, &[3.0, 0.0, -1e-9]);
    assert_eq!(p, vec![0.75, 1.0, 1.25]);
    assert_eq!(sign(-0.0f64), 0.0);
}

#[test]
fn asgd_reports_its_average() {
    let mut opt = OptimizerSpec::new("asgd")
        .with("t0", 1.0)
        .build::<f64>(one_group(2))
        .unwrap();
    let mut p = vec![1.0, 1.0];
    opt.step(0.1, &mut p, &[1.0, -1.0]);
    // mu == 1 on the first steps: the average is the iterate itself.
    assert_eq!(opt.averaged().unwrap(), p);
    assert!(OptimizerSpec::new("adam")
        .build::<f64>(one_group(2))
        .unwrap()
        .averaged()
        .is_none());
}

#[test]
fn f32_tracks_f64() {
    let n = 5;
    let grads = gradients(n, 30);
    for spec in all_specs() {
        let lr = spec.lr().unwrap();
        let mut a = spec.build::<f64>(one_group(n)).unwrap();
        let mut b = spec.build::<f32>(one_group(n)).unwrap();
        let mut pa = vec![0.5f64; n];
        let mut pb = vec![0.5f32; n];
        for g in &grads {
            a.step(lr, &mut pa, g);
            let g32: Vec<f32> = g.iter().map(|&x| x as f32).collect();
            b.step(lr, &mut pb, &g32);
        }
        for (x, y) in pa.iter().zip(&pb) {
            assert!((x - *y as f64).abs() < 1e-5, "{}: {x} vs {y}", spec.name);
        }
    }
}

#[test]
fn lerp_matches_torch_branches() {
    assert_eq!(lerp(1.0f64, 3.0, 0.25), 1.5);
    assert_eq!(lerp(1.0f64, 3.0, 1.0), 3.0);
    assert_eq!(lerp(1.0f64, 3.0, 0.75), 2.5);
}
