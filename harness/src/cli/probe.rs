//! `nsconform probe`: the view of this process, as JSON.

use super::EXIT_OK;

pub fn main() -> anyhow::Result<u8> {
    let view = crate::view::observe();
    super::out::print(&serde_json::to_string_pretty(&view)?)?;
    Ok(EXIT_OK)
}
