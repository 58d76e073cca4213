//! Tests of the optimizer definitions: the defaults pinned against PyTorch 2.9.1's constructors,
//! every listed option accepted (and used), every other key rejected with a suggestion, and
//! the `--help` listing.

use serde_json::{json, Value};

use super::*;

fn float(x: f64) -> OptionValue {
    OptionValue::Float(x)
}
fn bool(b: bool) -> OptionValue {
    OptionValue::Bool(b)
}
fn pair(a: f64, b: f64) -> OptionValue {
    OptionValue::Pair(a, b)
}

/// An optimizer's command-line name, torch class and options (`lr` first) with defaults.
type Expected = (
    &'static str,
    Option<&'static str>,
    Vec<(&'static str, OptionValue)>,
);

/// Every optimizer's options with torch's defaults, written out from the signatures of
/// PyTorch 2.9.1 (`inspect.signature(torch.optim.X.__init__)`, implementation switches
/// `foreach`, `fused`, `capturable` and `differentiable` left out).
fn torch_2_9_1_defaults() -> Vec<Expected> {
    vec![
        // SGD(params, lr=0.001, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
        //     maximize=False, foreach=None, differentiable=False, fused=None)
        (
            "sgd",
            Some("SGD"),
            vec![
                ("lr", float(1e-3)),
                ("momentum", float(0.0)),
                ("dampening", float(0.0)),
                ("weight_decay", float(0.0)),
                ("nesterov", bool(false)),
                ("maximize", bool(false)),
            ],
        ),
        // Not in torch: SGD with dampening = momentum = beta; SGD's lr, weight_decay, maximize.
        (
            "momentum-ema",
            None,
            vec![
                ("lr", float(1e-3)),
                ("beta", float(0.9)),
                ("weight_decay", float(0.0)),
                ("maximize", bool(false)),
            ],
        ),
        // Adagrad(params, lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
        //         eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None)
        (
            "adagrad",
            Some("Adagrad"),
            vec![
                ("lr", float(1e-2)),
                ("lr_decay", float(0.0)),
                ("weight_decay", float(0.0)),
                ("initial_accumulator_value", float(0.0)),
                ("eps", float(1e-10)),
                ("maximize", bool(false)),
            ],
        ),
        // RMSprop(params, lr=0.01, alpha=0.99, eps=1e-08, weight_decay=0, momentum=0,
        //         centered=False, capturable=False, foreach=None, maximize=False,
        //         differentiable=False)
        (
            "rmsprop",
            Some("RMSprop"),
            vec![
                ("lr", float(1e-2)),
                ("alpha", float(0.99)),
                ("eps", float(1e-8)),
                ("weight_decay", float(0.0)),
                ("momentum", float(0.0)),
                ("centered", bool(false)),
                ("maximize", bool(false)),
            ],
        ),
        // Adam(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0, amsgrad=False,
        //      *, foreach=None, maximize=False, capturable=False, differentiable=False,
        //      fused=None, decoupled_weight_decay=False)
        (
            "adam",
            Some("Adam"),
            vec![
                ("lr", float(1e-3)),
                ("betas", pair(0.9, 0.999)),
                ("eps", float(1e-8)),
                ("weight_decay", float(0.0)),
                ("amsgrad", bool(false)),
                ("maximize", bool(false)),
                ("decoupled_weight_decay", bool(false)),
            ],
        ),
        // AdamW(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01,
        //       amsgrad=False, *, maximize=False, foreach=None, capturable=False,
        //       differentiable=False, fused=None)
        (
            "adamw",
            Some("AdamW"),
            vec![
                ("lr", float(1e-3)),
                ("betas", pair(0.9, 0.999)),
                ("eps", float(1e-8)),
                ("weight_decay", float(1e-2)),
                ("amsgrad", bool(false)),
                ("maximize", bool(false)),
            ],
        ),
        // Adamax(params, lr=0.002, betas=(0.9, 0.999), eps=1e-08, weight_decay=0,
        //        foreach=None, *, maximize=False, differentiable=False, capturable=False)
        (
            "adamax",
            Some("Adamax"),
            vec![
                ("lr", float(2e-3)),
                ("betas", pair(0.9, 0.999)),
                ("eps", float(1e-8)),
                ("weight_decay", float(0.0)),
                ("maximize", bool(false)),
            ],
        ),
        // NAdam(params, lr=0.002, betas=(0.9, 0.999), eps=1e-08, weight_decay=0,
        //       momentum_decay=0.004, decoupled_weight_decay=False, *, foreach=None,
        //       maximize=False, capturable=False, differentiable=False)
        (
            "nadam",
            Some("NAdam"),
            vec![
                ("lr", float(2e-3)),
                ("betas", pair(0.9, 0.999)),
                ("eps", float(1e-8)),
                ("weight_decay", float(0.0)),
                ("momentum_decay", float(4e-3)),
                ("decoupled_weight_decay", bool(false)),
                ("maximize", bool(false)),
            ],
        ),
        // RAdam(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0,
        //       decoupled_weight_decay=False, *, foreach=None, maximize=False,
        //       capturable=False, differentiable=False)
        (
            "radam",
            Some("RAdam"),
            vec![
                ("lr", float(1e-3)),
                ("betas", pair(0.9, 0.999)),
                ("eps", float(1e-8)),
                ("weight_decay", float(0.0)),
                ("decoupled_weight_decay", bool(false)),
                ("maximize", bool(false)),
            ],
        ),
        // Adadelta(params, lr=1.0, rho=0.9, eps=1e-06, weight_decay=0, foreach=None, *,
        //          capturable=False, maximize=False, differentiable=False)
        (
            "adadelta",
            Some("Adadelta"),
            vec![
                ("lr", float(1.0)),
                ("rho", float(0.9)),
                ("eps", float(1e-6)),
                ("weight_decay", float(0.0)),
                ("maximize", bool(false)),
            ],
        ),
        // ASGD(params, lr=0.01, lambd=0.0001, alpha=0.75, t0=1000000.0, weight_decay=0,
        //      foreach=None, maximize=False, differentiable=False, capturable=False)
        (
            "asgd",
            Some("ASGD"),
            vec![
                ("lr", float(1e-2)),
                ("lambd", float(1e-4)),
                ("alpha", float(0.75)),
                ("t0", float(1e6)),
                ("weight_decay", float(0.0)),
                ("maximize", bool(false)),
            ],
        ),
        // Rprop(params, lr=0.01, etas=(0.5, 1.2), step_sizes=(1e-06, 50), *, capturable=False,
        //       foreach=None, maximize=False, differentiable=False)
        (
            "rprop",
            Some("Rprop"),
            vec![
                ("lr", float(1e-2)),
                ("etas", pair(0.5, 1.2)),
                ("step_sizes", pair(1e-6, 50.0)),
                ("maximize", bool(false)),
            ],
        ),
        // Not in torch: sign descent, with SGD's lr, weight_decay and maximize.
        (
            "sign",
            None,
            vec![
                ("lr", float(1e-3)),
                ("weight_decay", float(0.0)),
                ("maximize", bool(false)),
            ],
        ),
    ]
}

#[test]
fn defaults_pin_torch_2_9_1_constructors() {
    let expected = torch_2_9_1_defaults();
    let listed: Vec<&str> = describe().iter().map(|i| i.name).collect();
    let wanted: Vec<&str> = expected.iter().map(|e| e.0).collect();
    assert_eq!(listed, wanted);
    assert_eq!(names(), &wanted[..]);
    for (info, (name, torch_name, options)) in describe().iter().zip(expected) {
        assert_eq!(info.torch_name, torch_name, "{name}");
        let got: Vec<(&str, OptionValue)> = info
            .all_options()
            .iter()
            .map(|o| (o.name, o.default))
            .collect();
        assert_eq!(got, options, "{name}");
        // The spec reports the same lr and option names.
        assert_eq!(OptimizerSpec::new(name).lr().unwrap(), info.default_lr);
        let keys: Vec<&str> = options.iter().map(|o| o.0).collect();
        assert_eq!(OptimizerSpec::known_options(name).unwrap(), &keys[..]);
        if let Some(t) = torch_name {
            assert_eq!(OptimizerSpec::new(t).canonical_name().unwrap(), name);
        }
    }
}

/// A valid value different from `o`'s default (nesterov is valid with momentum, set by the
/// caller).
fn other_value(o: &OptionInfo) -> Value {
    match o.default {
        OptionValue::Float(0.0) => json!(0.5),
        OptionValue::Float(d) => json!(d * 0.5),
        OptionValue::Bool(b) => json!(!b),
        // Halving the first keeps betas in [0, 1), etaminus in (0, 1) and the step sizes ordered.
        OptionValue::Pair(a, b) => json!([a * 0.5, b]),
    }
}

fn default_value(o: &OptionInfo) -> Value {
    match o.default {
        OptionValue::Float(d) => json!(d),
        OptionValue::Bool(b) => json!(b),
        OptionValue::Pair(a, b) => json!([a, b]),
    }
}

fn one_group(n: usize) -> Vec<(GroupRange, GroupOptions)> {
    vec![(0..n, GroupOptions::default())]
}

#[test]
fn every_listed_option_is_accepted_and_used() {
    for info in describe() {
        let base = if info.name == "sgd" {
            OptimizerSpec::new(info.name).with("momentum", 0.25)
        } else {
            OptimizerSpec::new(info.name)
        };
        let plain = base.build::<f64>(one_group(2)).unwrap().save_state();
        for o in info.all_options() {
            // The default, given explicitly, builds the same optimizer as leaving it out.
            let same = base.clone().with(o.name, default_value(&o));
            let built = same.build::<f64>(one_group(2));
            let built = built.unwrap_or_else(|e| panic!("{} {}: {e}", info.name, o.name));
            if !(info.name == "sgd" && o.name == "momentum") {
                assert_eq!(built.save_state(), plain, "{} {}", info.name, o.name);
            }
            // Another value is taken: into the config, or as the learning rate.
            let changed = base.clone().with(o.name, other_value(&o));
            let built = changed.build::<f64>(one_group(2));
            let built = built.unwrap_or_else(|e| panic!("{} {}: {e}", info.name, o.name));
            if o.name == "lr" {
                assert_eq!(changed.lr().unwrap(), info.default_lr * 0.5);
            } else {
                assert_ne!(built.save_state(), plain, "{} {}", info.name, o.name);
            }
        }
    }
}

#[test]
fn every_other_key_is_rejected() {
    let mut universe: Vec<&str> = describe()
        .iter()
        .flat_map(|i| i.all_options())
        .map(|o| o.name)
        .collect();
    // torch's implementation switches, case and spelling variants.
    universe.extend([
        "foreach",
        "fused",
        "capturable",
        "differentiable",
        "LR",
        "beta1",
        "",
    ]);
    for info in describe() {
        let keys = OptimizerSpec::known_options(info.name).unwrap();
        for key in universe.iter().filter(|k| !keys.contains(k)) {
            let err = OptimizerSpec::new(info.name)
                .with(key, 0.5)
                .build::<f64>(one_group(2))
                .unwrap_err();
            assert!(matches!(err, Error::Parse { .. }), "{}: {key}", info.name);
            let text = err.to_string();
            let expected = format!(
                "option `{key}` does not apply to {}; it takes: {}",
                info.name,
                keys.join(", ")
            );
            assert!(text.contains(&expected), "{text}");
            assert!(OptimizerSpec::new(info.name).with(key, 0.5).lr().is_err());
        }
    }
}

#[test]
fn misspellings_get_a_suggestion() {
    let err = OptimizerSpec::new("adamm").canonical_name().unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("unknown optimizer; did you mean `adam`?"),
        "{text}"
    );
    assert!(text.contains("known: sgd, momentum-ema, adagrad"), "{text}");
    assert!(text.contains("torch's class names: SGD, Adagrad"), "{text}");
    let err = OptimizerSpec::new("RMSProp").canonical_name().unwrap_err();
    assert!(err.to_string().contains("did you mean `rmsprop`?"), "{err}");
    let err = OptimizerSpec::new("lbfgs").canonical_name().unwrap_err();
    assert!(!err.to_string().contains("did you mean"), "{err}");

    let err = OptimizerSpec::new("sgd")
        .with("momentm", 0.9)
        .build::<f64>(one_group(1))
        .unwrap_err();
    assert!(
        err.to_string().ends_with("; did you mean `momentum`?"),
        "{err}"
    );
    let err = OptimizerSpec::new("adam")
        .with("weightdecay", 0.1)
        .build::<f64>(one_group(1))
        .unwrap_err();
    assert!(
        err.to_string().contains("did you mean `weight_decay`?"),
        "{err}"
    );
}

#[test]
fn describe_renders_a_help_block_per_optimizer() {
    let rprop = describe().iter().find(|i| i.name == "rprop").unwrap();
    let text = rprop.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("rprop (torch.optim.Rprop): "),
        "{text}"
    );
    assert!(lines[1].starts_with("  lr=0.01 "), "{text}");
    assert!(lines[2].starts_with("  etas=(0.5, 1.2) "), "{text}");
    assert!(lines[3].starts_with("  step_sizes=(1e-6, 50.0) "), "{text}");
    assert!(lines[4].starts_with("  maximize=false "), "{text}");
    assert_eq!(lines.len(), 5);
    let sign = describe().iter().find(|i| i.name == "sign").unwrap();
    assert!(sign.to_string().starts_with("sign (not in torch): "));
    // Structured data for front ends, too.
    let json = serde_json::to_value(rprop).unwrap();
    assert_eq!(json["options"][0]["default"], json!([0.5, 1.2]));
    assert_eq!(json["torch_name"], json!("Rprop"));
}
