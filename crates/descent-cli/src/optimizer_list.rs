//! `--optimizers sgd,momentum,adam --lr 0.1,adam=0.01`: the optimizers a comparison runs, each
//! with its learning rate.

use anyhow::{bail, Context, Result};
use descent::optim::{did_you_mean, names, GroupOptions, OptimizerSpec};

/// Every name `--optimizers` takes: the library's optimizers, with the two presets of
/// [`spec_for`] after `sgd`.
fn choices() -> Vec<&'static str> {
    let mut all = names().to_vec();
    let after_sgd = all.iter().position(|&n| n == "sgd").map_or(0, |i| i + 1);
    all.splice(after_sgd..after_sgd, ["momentum", "nesterov"]);
    all
}

/// One optimizer of a comparison: its label (as given), spec and learning rate.
#[derive(Clone, Debug)]
pub struct Entry {
    pub label: String,
    pub spec: OptimizerSpec,
    pub lr: f64,
}

/// `momentum` and `nesterov` are SGD with momentum 0.9 (plain and Nesterov); every other name
/// is an optimizer of `descent::optim` with torch's defaults.
pub fn spec_for(name: &str) -> Result<OptimizerSpec> {
    let spec = match name {
        "momentum" => OptimizerSpec::new("sgd").with("momentum", 0.9),
        "nesterov" => OptimizerSpec::new("sgd")
            .with("momentum", 0.9)
            .with("nesterov", true),
        _ => OptimizerSpec::new(name),
    };
    if spec.canonical_name().is_err() {
        let choices = choices();
        let hint = did_you_mean(name, &choices)
            .map(|c| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        bail!(
            "unknown optimizer `{name}`{hint}: choose from {}",
            choices.join(", ")
        );
    }
    Ok(spec)
}

/// The optimizers named in `names`, with learning rates from `lr`: each item a number (for
/// every optimizer without its own) or `NAME=NUMBER`; the rest take torch's default lr.
pub fn parse(names: &[String], lr: &[String]) -> Result<Vec<Entry>> {
    if names.is_empty() {
        bail!("--optimizers needs at least one name, e.g. sgd,adam");
    }
    let mut common = None;
    let mut own = Vec::new();
    for item in lr {
        let number = |s: &str| -> Result<f64> {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .with_context(|| {
                    format!("--lr `{item}`: a learning rate must be a positive number")
                })
        };
        match item.split_once('=') {
            Some((name, v)) => {
                let name = name.trim();
                if !names.iter().any(|n| n == name) {
                    bail!(
                        "--lr names `{name}`, which is not in --optimizers ({})",
                        names.join(",")
                    );
                }
                own.push((name.to_string(), number(v)?));
            }
            None => common = Some(number(item)?),
        }
    }
    let mut entries: Vec<Entry> = Vec::new();
    for name in names {
        let name = name.trim();
        if entries.iter().any(|e| e.label == name) {
            bail!("--optimizers lists `{name}` twice");
        }
        let mut spec = spec_for(name)?;
        let lr = match own.iter().find(|(n, _)| n == name) {
            Some((_, v)) => *v,
            None => match common {
                Some(v) => v,
                None => spec.lr()?,
            },
        };
        spec = spec.with("lr", lr);
        spec.build::<f64>(vec![(0..1, GroupOptions::default())])
            .with_context(|| format!("optimizer `{name}`"))?;
        entries.push(Entry {
            label: name.to_string(),
            spec,
            lr,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn per_optimizer_rates_override_the_common_one() {
        let e = parse(&strings(&["sgd", "adam"]), &strings(&["0.1", "adam=0.01"])).unwrap();
        assert_eq!((e[0].lr, e[1].lr), (0.1, 0.01));
        let d = parse(&strings(&["adam"]), &[]).unwrap();
        assert_eq!(d[0].lr, 1e-3);
    }

    #[test]
    fn unknown_names_are_errors() {
        let e = parse(&strings(&["nesterv"]), &[]).unwrap_err().to_string();
        assert!(e.contains("unknown optimizer `nesterv` (did you mean `nesterov`?): choose from sgd, momentum, nesterov, momentum-ema, adagrad"), "{e}");
        assert!(parse(&strings(&["sgdx"]), &[]).is_err());
        assert!(parse(&strings(&["sgd"]), &strings(&["adam=0.1"])).is_err());
        assert!(parse(&strings(&["sgd"]), &strings(&["-1"])).is_err());
    }
}
