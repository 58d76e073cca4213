//! Lessons 7–13 (placeholder while building).
use super::Tour;
use anyhow::Result;
pub fn run(_tour: &mut Tour) -> Result<()> {
    Ok(())
}
