//! What the bureau sends out: the nightly notices and the published
//! black/white list page.

mod lists_page;
mod notices;
