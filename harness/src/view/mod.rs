//! Views: what one process sees, one section per namespace type plus `ns`.

pub mod ns;

use serde::Serialize;

/// What one process sees.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub ns: ns::NsView,
}

/// Observe the calling process.
pub fn observe() -> View {
    View { ns: ns::observe() }
}
