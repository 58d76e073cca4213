//! Saved schedule state: tagged JSON with bit-exact floats.
//!
//! serde_json's default float reader may be off by one ulp and cannot hold `inf`, so every
//! float is written as Rust's shortest round-trip text and read back with `str::parse`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

/// `#[serde(with = "exact")]` for `f64` fields.
pub(crate) mod exact {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{x:?}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let text = String::deserialize(d)?;
        text.parse()
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a float")))
    }
}

/// `#[serde(with = "exact_opt")]` for `Option<f64>` fields.
pub(crate) mod exact_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match x {
            Some(x) => s.serialize_str(&format!("{x:?}")),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a float"))),
        }
    }
}

/// The state of most schedules: torch's `last_epoch` and the group's current `lr`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct EpochLr {
    pub last_epoch: usize,
    #[serde(with = "exact")]
    pub lr: f64,
}

impl EpochLr {
    /// The state right after construction (torch's initial step): epoch 0 at `lr`.
    pub fn start(lr: f64) -> Self {
        EpochLr { last_epoch: 0, lr }
    }
}

/// Serializes `state` with a `"schedule": kind` tag.
pub(crate) fn save<T: Serialize>(kind: &str, state: &T) -> Value {
    let mut v = serde_json::to_value(state).expect("schedule state serializes");
    if let Value::Object(map) = &mut v {
        map.insert("schedule".into(), Value::String(kind.into()));
    }
    v
}

/// Reads what [`save`] wrote, checking the tag.
pub(crate) fn load<T: DeserializeOwned>(kind: &str, value: &Value) -> Result<T> {
    match value.get("schedule").and_then(Value::as_str) {
        Some(k) if k == kind => {}
        Some(k) => {
            return Err(Error::State(format!(
                "schedule state is for `{k}`, not `{kind}`"
            )))
        }
        None => {
            return Err(Error::State(format!(
                "schedule state for `{kind}` has no `schedule` tag"
            )))
        }
    }
    serde_json::from_value(value.clone())
        .map_err(|e| Error::State(format!("schedule state for `{kind}`: {e}")))
}
