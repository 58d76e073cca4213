//! TODO
use serde_json::Value;
pub fn run(_case: &Value) -> Result<(), String> {
    Err("family not implemented yet".into())
}
