//! `ScheduleSpec`: command-line syntax round-trips, error messages, warnings, behaviour of the
//! schedules, and checkpoint save/load continuing bit-identically. (Agreement with PyTorch is
//! tested by the `schedulers` family of `tests/oracle.rs`.)

use descent::schedule::{ScheduleSpec, Scheduler};
use descent::Error;
use serde_json::json;

/// One spec of every kind, in canonical form.
const CANONICAL: &[&str] = &[
    "constant",
    "constant:factor=0.5,total_iters=10",
    "step:step_size=30,gamma=0.1",
    "multistep:milestones=30;80,gamma=0.1",
    "multistep:milestones=3;3;7,gamma=0.5",
    "exponential:gamma=0.95",
    "cosine:t_max=100,eta_min=0.001",
    "cosine-restarts:t_0=10,t_mult=2,eta_min=0.0",
    "linear:start_factor=0.1,end_factor=1.0,total_iters=5",
    "onecycle:max_lr=0.1,pct_start=0.3,anneal_strategy=linear,cycle_momentum=true,base_momentum=0.85,max_momentum=0.95,div_factor=25.0,final_div_factor=10000.0,three_phase=false",
    "onecycle:max_lr=0.5,total_steps=60,pct_start=0.3,anneal_strategy=cos,cycle_momentum=true,base_momentum=0.85,max_momentum=0.95,div_factor=10.0,final_div_factor=100.0,three_phase=true",
    "cyclic:base_lr=0.001,max_lr=0.1,step_size_up=2000,mode=triangular,gamma=1.0,cycle_momentum=true,base_momentum=0.8,max_momentum=0.9",
    "cyclic:base_lr=0.01,max_lr=0.5,step_size_up=4,step_size_down=6,mode=exp_range,gamma=0.99,scale_mode=iterations,cycle_momentum=false,base_momentum=0.85,max_momentum=0.95",
    "cyclic:base_lr=0.1,max_lr=0.01,step_size_up=3,step_size_down=0,mode=triangular2,gamma=1.0,scale_mode=iterations,cycle_momentum=true,base_momentum=0.8,max_momentum=0.9",
    "inv-sqrt",
    "polynomial:total_iters=50,power=2.0",
    "plateau:mode=max,factor=0.3,patience=3,threshold=0.01,threshold_mode=abs,cooldown=3,min_lr=0.001,eps=1e-8",
    "linear:start_factor=0.1,end_factor=1.0,total_iters=5 @5 cosine:t_max=95,eta_min=0.0",
    "constant:factor=0.1,total_iters=3 @3 exponential:gamma=0.9 @10 step:step_size=4,gamma=0.5",
];

fn parse(s: &str) -> ScheduleSpec {
    ScheduleSpec::parse(s).unwrap_or_else(|e| panic!("`{s}`: {e}"))
}

fn parse_err(s: &str) -> String {
    match ScheduleSpec::parse(s) {
        Ok(spec) => panic!("`{s}` parsed as {spec:?}"),
        Err(e) => e.to_string(),
    }
}

fn lrs(spec: &str, steps: usize) -> Vec<f64> {
    let mut s = parse(spec).build(0.1, Some(0.9), steps).unwrap();
    (0..steps)
        .map(|_| {
            let lr = s.lr();
            s.step(0.0);
            lr
        })
        .collect()
}

#[test]
fn canonical_specs_print_back_unchanged() {
    for &text in CANONICAL {
        let spec = parse(text);
        assert_eq!(spec.to_string(), text);
        assert_eq!(parse(&spec.to_string()), spec);
    }
}

#[test]
fn short_specs_round_trip_through_display() {
    for text in [
        "step:step_size=30",
        "cosine:eta_min=1e-3,t_max=7",
        "onecycle:max_lr=0.1,anneal_strategy=linear",
        "plateau:mode=min,factor=0.5,patience=3",
        "plateau",
        "linear",
        "none",
        "multistep:milestones=2",
        "multistep:milestones=2;2",
        "cyclic:base_lr=0.001,max_lr=0.1",
        "cyclic:max_lr=0.1,base_lr=0.001,mode=exp_range,gamma=0.999",
        "step:step_size=10.0,gamma=0.30000000000000004",
        "linear:start_factor=0.1,total_iters=5 @5 cosine:t_max=95",
        "linear@5 cosine:t_max=95",
    ] {
        let spec = parse(text);
        assert_eq!(parse(&spec.to_string()), spec, "{text} -> {spec}");
    }
}

#[test]
fn defaults_are_torchs() {
    assert_eq!(
        parse("step:step_size=3"),
        ScheduleSpec::Step {
            step_size: 3,
            gamma: 0.1
        }
    );
    assert_eq!(
        parse("linear"),
        ScheduleSpec::Linear {
            start_factor: 1.0 / 3.0,
            end_factor: 1.0,
            total_iters: 5
        }
    );
    assert_eq!(
        parse("polynomial"),
        ScheduleSpec::Polynomial {
            total_iters: 5,
            power: 1.0
        }
    );
    assert_eq!(parse("constant"), ScheduleSpec::NONE);
    let torch_constant = ScheduleSpec::from_torch("ConstantLR", &serde_json::Map::new()).unwrap();
    assert_eq!(
        torch_constant,
        ScheduleSpec::Constant {
            factor: 1.0 / 3.0,
            total_iters: 5
        }
    );
    let ScheduleSpec::Plateau(p) = parse("plateau") else {
        panic!()
    };
    assert_eq!(
        (
            p.factor,
            p.patience,
            p.threshold,
            p.cooldown,
            p.min_lr,
            p.eps
        ),
        (0.1, 10, 1e-4, 0, 0.0, 1e-8)
    );
}

#[test]
fn spec_serializes_with_serde() {
    for &text in CANONICAL {
        let spec = parse(text);
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(
            serde_json::from_str::<ScheduleSpec>(&json).unwrap(),
            spec,
            "{json}"
        );
    }
}

#[test]
fn errors_name_the_problem_and_what_is_accepted() {
    let e = parse_err("cosin:t_max=3");
    assert!(
        e.contains("unknown schedule `cosin`")
            && e.contains("cosine-restarts")
            && e.contains("@MILESTONE"),
        "{e}"
    );
    let e = parse_err("cosine:tmax=3");
    assert!(
        e.contains("unknown key `tmax`") && e.contains("t_max (required)") && e.contains("eta_min"),
        "{e}"
    );
    let e = parse_err("step:gamma=0.5");
    assert!(e.contains("missing required key `step_size`"), "{e}");
    let e = parse_err("exponential:gamma=abc");
    assert!(e.contains("`gamma=abc` is not a number"), "{e}");
    let e = parse_err("multistep:milestones=3;x");
    assert!(e.contains("list of non-negative integers"), "{e}");
    let e = parse_err("onecycle:max_lr=0.1,anneal_strategy=cosine");
    assert!(e.contains("one of cos, linear"), "{e}");
    let e = parse_err("step:step_size");
    assert!(e.contains("expected `key=value`"), "{e}");
    let e = parse_err("step:step_size=3,step_size=4");
    assert!(e.contains("given twice"), "{e}");
    let e = parse_err("inv-sqrt:x=1");
    assert!(e.contains("takes no keys"), "{e}");
    let e = parse_err("linear @x cosine:t_max=3");
    assert!(e.contains("`@x` is not a milestone"), "{e}");
    assert!(matches!(
        ScheduleSpec::parse("cosin"),
        Err(Error::Parse { .. })
    ));
}

#[test]
fn bad_values_name_the_option_and_the_rule() {
    let cases = [
        ("step:step_size=0", "step_size", ">= 1"),
        ("exponential:gamma=-1", "gamma", ">= 0"),
        ("cosine:t_max=0", "t_max", ">= 1"),
        ("cosine-restarts:t_0=5,t_mult=0", "t_mult", ">= 1"),
        ("linear:start_factor=0", "start_factor", "(0, 1]"),
        ("linear:end_factor=1.5", "end_factor", "[0, 1]"),
        (
            "multistep:milestones=5;3",
            "milestones",
            "non-decreasing order",
        ),
        ("onecycle:max_lr=0.1,pct_start=1.5", "pct_start", "[0, 1]"),
        ("onecycle:max_lr=0.1,div_factor=0", "div_factor", "> 0"),
        ("plateau:factor=1.0", "factor", "[0, 1)"),
        ("constant:factor=0,total_iters=3", "factor", "(0, 1]"),
        ("polynomial:power=-1", "power", ">= 0"),
        ("cyclic:base_lr=-1,max_lr=0.1", "base_lr", ">= 0"),
        ("cyclic:base_lr=0.1,max_lr=inf", "max_lr", "finite"),
        (
            "cyclic:base_lr=0.1,max_lr=1,step_size_up=0",
            "step_size_up",
            ">= 1",
        ),
        ("cyclic:base_lr=0.1,max_lr=1,gamma=-0.5", "gamma", ">= 0"),
        (
            "cyclic:base_lr=0.1,max_lr=1,max_momentum=nan",
            "max_momentum",
            "finite",
        ),
        (
            "linear @5 cyclic:base_lr=0.1,max_lr=1",
            "schedules",
            "cannot be part of a sequence",
        ),
        ("linear @0 cosine:t_max=3", "milestones", ">= 1"),
        (
            "linear @5 plateau",
            "schedules",
            "cannot be part of a sequence",
        ),
    ];
    for (text, name, rule) in cases {
        match ScheduleSpec::parse(text) {
            Err(Error::InvalidHyperparameter {
                name: n, rule: r, ..
            }) => {
                assert_eq!(n, name, "{text}");
                assert!(r.contains(rule), "{text}: {r}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn onecycle_needs_a_momentum_to_cycle() {
    let spec = parse("onecycle:max_lr=0.1");
    let e = spec.build(0.1, None, 100).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidHyperparameter { name, .. } if name == "cycle_momentum"),
        "{e}"
    );
    let spec = parse("onecycle:max_lr=0.1,cycle_momentum=false");
    let s = spec.build(0.1, None, 100).unwrap();
    assert_eq!(s.momentum(), None);
    // torch's cos anneal at pct 0 (`end + (start - end) / 2 * 2`) rounds.
    assert!((s.lr() - 0.1 / 25.0).abs() < 1e-17);
}

#[test]
fn onecycle_total_steps_defaults_to_the_run() {
    let by_default = lrs("onecycle:max_lr=0.1", 50);
    let explicit = lrs("onecycle:max_lr=0.1,total_steps=50", 50);
    assert_eq!(by_default, explicit);
    assert!((by_default[0] - 0.1 / 25.0).abs() < 1e-17);
    let peak = by_default.iter().cloned().fold(0.0, f64::max);
    assert!((peak - 0.1).abs() < 1e-16);
}

#[test]
fn warnings_point_at_likely_mistakes() {
    let w = |s: &str, n: usize| parse(s).warnings(n).join("\n");
    assert!(w("multistep:milestones=30;150", 100).contains("milestone 150"));
    assert!(!w("multistep:milestones=30;150", 100).contains("milestone 30"));
    assert!(w("linear:total_iters=200", 100).contains("warm-up never finishes"));
    assert!(w("cosine:t_max=10", 100).contains("climbs back up"));
    assert!(w("cosine:t_max=100", 100).is_empty());
    assert!(w("step:step_size=100", 100).contains("never decays"));
    assert!(w("step:step_size=30", 100).is_empty());
    assert!(w("onecycle:max_lr=0.1,total_steps=50", 100).contains("ends early"));
    assert!(w("polynomial:total_iters=10", 100).contains("lr is 0 for the last 90 steps"));
    assert!(w("plateau:patience=200", 100).contains("never reduced"));
    assert!(w("linear @150 cosine:t_max=10", 100).contains("never runs"));
    assert!(w("linear @5 cosine:t_max=10", 100).contains("climbs back up"));
    assert!(w("linear:total_iters=5 @5 cosine:t_max=95", 100).is_empty());
    assert!(w("constant", 100).is_empty());
}

#[test]
fn step_decays_at_multiples_of_step_size() {
    let lr = lrs("step:step_size=10,gamma=0.5", 31);
    assert!(lr[..10].iter().all(|&x| x == 0.1));
    assert!(lr[10..20].iter().all(|&x| x == 0.05));
    assert!(lr[20..30].iter().all(|&x| x == 0.025));
    assert_eq!(lr[30], 0.0125);
}

#[test]
fn multistep_decays_at_milestones_only() {
    let lr = lrs("multistep:milestones=2;5,gamma=0.1", 7);
    assert_eq!(lr[0], lr[1]);
    assert_eq!(lr[2], 0.1 * 0.1);
    assert_eq!(lr[4], lr[2]);
    assert_eq!(lr[5], 0.1 * 0.1 * 0.1);
}

#[test]
fn multistep_repeated_milestones_multiply_once_per_listing() {
    let lr = lrs("multistep:milestones=2;2;5,gamma=0.5", 7);
    assert_eq!(lr[..2], [0.1, 0.1]);
    // torch: `lr * gamma ** 2` at a milestone counted twice.
    assert_eq!(lr[2], 0.1 * 0.25);
    assert_eq!(lr[4], lr[2]);
    assert_eq!(lr[5], 0.1 * 0.25 * 0.5);
    let lr = lrs("multistep:milestones=0;0,gamma=0.1", 2);
    assert_eq!(lr, [0.1 * 0.1f64.powf(2.0); 2]);
    assert!(parse("multistep:milestones=40;40,gamma=0.1")
        .warnings(30)
        .len()
        .eq(&1));
}

#[test]
fn cyclic_runs_the_triangle_and_the_momentum_against_it() {
    let spec = parse("cyclic:base_lr=0.1,max_lr=0.5,step_size_up=2,step_size_down=4");
    let mut s = spec.build(0.9, Some(0.9), 20).unwrap();
    let mut lr = Vec::new();
    let mut momentum = Vec::new();
    for _ in 0..8 {
        lr.push(s.lr());
        momentum.push(s.momentum().unwrap());
        s.step(0.0);
    }
    // Up in 2 steps, down in 4, again: the optimizer's lr (0.9) is not used.
    let expect = [0.1, 0.3, 0.5, 0.4, 0.3, 0.2, 0.1, 0.3];
    for (got, want) in lr.iter().zip(expect) {
        assert!((got - want).abs() <= 1e-15, "{lr:?}");
    }
    assert_eq!(momentum[0], 0.9);
    assert!((momentum[2] - 0.8).abs() <= 1e-15, "{momentum:?}");
    assert!((momentum[4] - 0.85).abs() <= 1e-15, "{momentum:?}");
}

#[test]
fn cyclic_modes_scale_the_amplitude() {
    let peaks = |text: &str| {
        let lr = lrs(text, 13);
        [lr[2], lr[6], lr[10]]
    };
    let base = "cyclic:base_lr=0.0,max_lr=1.0,step_size_up=2,cycle_momentum=false";
    assert_eq!(peaks(base), [1.0, 1.0, 1.0]);
    assert_eq!(peaks(&format!("{base},mode=triangular2")), [1.0, 0.5, 0.25]);
    let exp = peaks(&format!("{base},mode=exp_range,gamma=0.9"));
    assert_eq!(exp, [0.9f64.powf(2.0), 0.9f64.powf(6.0), 0.9f64.powf(10.0)]);
    // torch ignores scale_mode for the built-in modes; a warning says so.
    assert_eq!(
        peaks(&format!("{base},mode=triangular2,scale_mode=iterations")),
        [1.0, 0.5, 0.25]
    );
    let w = parse(&format!("{base},mode=triangular2,scale_mode=iterations")).warnings(100);
    assert!(
        w[0].contains("scale_mode=iterations is ignored with mode=triangular2"),
        "{w:?}"
    );
    assert!(parse(&format!("{base},scale_mode=cycle"))
        .warnings(100)
        .is_empty());
    let w = parse("cyclic:base_lr=0.001,max_lr=0.1")
        .warnings(100)
        .join("\n");
    assert!(
        w.contains("step_size_up=2000 >= the run's 100 steps"),
        "{w}"
    );
}

#[test]
fn cyclic_needs_a_momentum_to_cycle_and_no_sequence() {
    let spec = parse("cyclic:base_lr=0.001,max_lr=0.1");
    let e = spec.build(0.1, None, 100).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidHyperparameter { name, .. } if name == "cycle_momentum"),
        "{e}"
    );
    let spec = parse("cyclic:base_lr=0.001,max_lr=0.1,cycle_momentum=false");
    assert_eq!(spec.build(0.1, None, 100).unwrap().momentum(), None);
    let e = parse_err("cyclic:base_lr=0.1");
    assert!(e.contains("missing required key `max_lr`"), "{e}");
    let e = parse_err("cyclic:base_lr=0.1,max_lr=1,mode=triangle");
    assert!(
        e.contains("one of triangular, triangular2, exp_range"),
        "{e}"
    );
    let e = parse_err("cyclic:base_lr=0.1,max_lr=1,scale_mode=epoch");
    assert!(e.contains("one of cycle, iterations"), "{e}");
}

#[test]
fn linear_warm_up_reaches_the_base_lr_and_stays() {
    let lr = lrs("linear:start_factor=0.1,total_iters=4", 8);
    assert_eq!(lr[0], 0.1 * 0.1);
    for (t, &x) in lr.iter().enumerate().take(5).skip(1) {
        let expected = 0.1 * (0.1 + 0.9 * t as f64 / 4.0);
        assert!((x - expected).abs() < 1e-15, "{t}: {x} vs {expected}");
    }
    assert_eq!(lr[5], lr[4]);
    assert_eq!(lr[7], lr[4]);
}

#[test]
fn cosine_reaches_eta_min_at_t_max_and_climbs_back() {
    let lr = lrs("cosine:t_max=10,eta_min=0.001", 21);
    assert_eq!(lr[0], 0.1);
    assert!((lr[10] - 0.001).abs() < 1e-15);
    assert!(lr[15] > lr[10] && (lr[20] - 0.1).abs() < 1e-14);
}

#[test]
fn warm_restarts_jump_back_to_the_base_lr() {
    let lr = lrs("cosine-restarts:t_0=3,t_mult=2", 10);
    assert_eq!(lr[0], 0.1);
    assert_eq!(lr[3], 0.1);
    assert_eq!(lr[9], 0.1);
    assert!(lr[4] < lr[3] && lr[8] < lr[7]);
}

#[test]
fn inv_sqrt_divides_by_the_root_of_the_step() {
    let lr = lrs("inv-sqrt", 4);
    assert_eq!(lr[0], 0.1);
    assert_eq!(lr[3], 0.1 * (1.0 / 2.0));
}

#[test]
fn plateau_reduces_after_patience_bad_epochs() {
    let mut s = parse("plateau:factor=0.5,patience=2")
        .build(0.1, None, 100)
        .unwrap();
    let metrics = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.4, 0.45];
    let mut lr = Vec::new();
    for m in metrics {
        s.step(m);
        lr.push(s.lr());
    }
    // Bad epochs after 0.5: 0.6, 0.7, 0.8 -> the third exceeds patience 2.
    assert_eq!(lr, [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05]);
}

#[test]
fn plateau_respects_cooldown_and_min_lr() {
    let mut s = parse("plateau:factor=0.1,patience=0,cooldown=2,min_lr=0.002")
        .build(0.1, None, 100)
        .unwrap();
    let mut lr = Vec::new();
    for _ in 0..8 {
        s.step(1.0);
        lr.push(s.lr());
    }
    // First epoch sets the best; then each bad epoch reduces unless in cooldown.
    let expected = [
        0.1,
        0.1 * 0.1,
        0.1 * 0.1,
        0.1 * 0.1,
        0.002,
        0.002,
        0.002,
        0.002,
    ];
    assert_eq!(lr, expected);
}

#[test]
fn sequential_switches_at_the_milestone() {
    let lr = lrs(
        "constant:factor=0.1,total_iters=100 @3 exponential:gamma=0.5",
        6,
    );
    assert_eq!(&lr[..3], &[0.1 * 0.1; 3]);
    assert_eq!(&lr[3..], &[0.1, 0.05, 0.025]);
    let warm = lrs("linear:start_factor=0.5,total_iters=2 @2 cosine:t_max=4", 8);
    assert_eq!(warm[0], 0.05);
    assert_eq!(warm[2], 0.1);
    assert!((warm[6] - 0.0).abs() < 1e-16);
}

#[test]
fn from_torch_reads_torch_names() {
    let opts = |v: serde_json::Value| v.as_object().unwrap().clone();
    let spec = ScheduleSpec::from_torch(
        "CosineAnnealingLR",
        &opts(json!({"T_max": 40, "eta_min": 0.001, "last_epoch": -1})),
    )
    .unwrap();
    assert_eq!(spec, parse("cosine:t_max=40,eta_min=0.001"));
    let spec = ScheduleSpec::from_torch(
        "CosineAnnealingWarmRestarts",
        &opts(json!({"T_0": 10, "T_mult": 2})),
    )
    .unwrap();
    assert_eq!(spec, parse("cosine-restarts:t_0=10,t_mult=2"));
    let spec = ScheduleSpec::from_torch(
        "OneCycleLR",
        &opts(json!({"max_lr": 0.1, "total_steps": null, "epochs": 4, "steps_per_epoch": 25})),
    )
    .unwrap();
    assert_eq!(spec, parse("onecycle:max_lr=0.1,total_steps=100"));
    let spec =
        ScheduleSpec::from_torch("LambdaLR", &opts(json!({"lr_lambda": "inv_sqrt"}))).unwrap();
    assert_eq!(spec, ScheduleSpec::InvSqrt);
    let e = ScheduleSpec::from_torch("LambdaLR", &opts(json!({})))
        .unwrap_err()
        .to_string();
    assert!(e.contains("inv_sqrt"), "{e}");
    let e = ScheduleSpec::from_torch("ChainedScheduler", &opts(json!({})))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown scheduler `ChainedScheduler`") && e.contains("CyclicLR"),
        "{e}"
    );
    let spec = ScheduleSpec::from_torch(
        "CyclicLR",
        &opts(
            json!({"base_lr": [0.001], "max_lr": 0.1, "step_size_up": 10,
                     "step_size_down": null, "mode": "triangular2", "scale_fn": null,
                     "scale_mode": "cycle", "last_epoch": -1}),
        ),
    )
    .unwrap();
    assert_eq!(
        spec,
        parse("cyclic:base_lr=0.001,max_lr=0.1,step_size_up=10,mode=triangular2,scale_mode=cycle")
    );
    let e = ScheduleSpec::from_torch(
        "CyclicLR",
        &opts(json!({"base_lr": 0.001, "max_lr": 0.1, "scale_fn": "lambda x: 1"})),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("scale_fn"), "{e}");
    // torch counts milestones: their order does not matter, repeats do.
    let spec = ScheduleSpec::from_torch(
        "MultiStepLR",
        &opts(json!({"milestones": [7, 3, 3], "gamma": 0.5})),
    )
    .unwrap();
    assert_eq!(spec, parse("multistep:milestones=3;3;7,gamma=0.5"));
    let e = ScheduleSpec::from_torch("StepLR", &opts(json!({"step_size": 3, "last_epoch": 7})))
        .unwrap_err()
        .to_string();
    assert!(e.contains("last_epoch"), "{e}");
    let spec = ScheduleSpec::from_torch(
        "SequentialLR",
        &opts(json!({"schedulers": [
            {"name": "LinearLR", "options": {"start_factor": 0.1, "total_iters": 5}},
            {"name": "CosineAnnealingLR", "options": {"T_max": 95}}],
          "milestones": [5]})),
    )
    .unwrap();
    assert_eq!(
        spec,
        parse("linear:start_factor=0.1,total_iters=5 @5 cosine:t_max=95")
    );
}

/// Runs `k` steps, saves, restores into a freshly built schedule (through JSON text), and
/// checks that both continue with the same bits.
#[test]
fn save_and_load_continue_bit_identically() {
    let metrics = |i: usize| 1.0 / (1.0 + (i % 7) as f64) + (i / 7) as f64 * 0.01;
    for &text in CANONICAL {
        let spec = parse(text);
        for k in [0, 1, 4, 9, 23] {
            let build = || spec.build(0.1, Some(0.9), 60).unwrap();
            let mut a = build();
            for i in 0..k {
                a.step(metrics(i));
            }
            let saved = serde_json::to_string(&a.save_state()).unwrap();
            let mut b = build();
            b.load_state(&serde_json::from_str(&saved).unwrap())
                .unwrap();
            for i in k..k + 30 {
                assert_eq!(
                    a.lr().to_bits(),
                    b.lr().to_bits(),
                    "{text}: k {k}, step {i}"
                );
                assert_eq!(
                    a.momentum().map(f64::to_bits),
                    b.momentum().map(f64::to_bits),
                    "{text}"
                );
                a.step(metrics(i));
                b.step(metrics(i));
            }
        }
    }
}

#[test]
fn loading_another_schedules_state_is_an_error() {
    let a = parse("step:step_size=3").build(0.1, None, 10).unwrap();
    let mut b = parse("exponential:gamma=0.9").build(0.1, None, 10).unwrap();
    let e = b.load_state(&a.save_state()).unwrap_err();
    assert!(matches!(&e, Error::State(m) if m.contains("`step`")), "{e}");
}

#[test]
fn plateau_state_keeps_an_infinite_best() {
    let s = parse("plateau").build(0.1, None, 10).unwrap();
    let mut t = parse("plateau").build(0.1, None, 10).unwrap();
    let text = serde_json::to_string(&s.save_state()).unwrap();
    assert!(text.contains("\"inf\""), "{text}");
    t.load_state(&serde_json::from_str(&text).unwrap()).unwrap();
    let _: &dyn Scheduler = t.as_ref();
}
