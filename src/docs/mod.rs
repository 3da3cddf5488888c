//! The generated parts of `docs/`: the script API reference, the file
//! formats, the command reference and the man pages, each made at run time
//! from the tables the code itself uses (the script API's `FUNCTIONS` and
//! property tables, the column tables of `format`, the model's enums, the
//! clap definitions), so a reference cannot drift from the code: a test
//! compares the checked-in files with what [`generate`] makes.
//!
//! `CASEBOOK_BLESS=1 cargo test --test casebook docs::generated` rewrites
//! them; `values` says which kind of value each column and property holds.

mod api;
mod commands;
pub mod definitions;
mod formats;
pub mod values;

pub use commands::{man_page, man_pages};

use anyhow::Result;

/// The command that regenerates the files, as their headers say it.
pub const REGENERATE: &str = "CASEBOOK_BLESS=1 cargo test --test casebook docs::generated";

/// The first lines of a generated Markdown file made from `sources`.
fn header(sources: &str) -> String {
    format!(
        "<!-- Generated from {sources}; regenerate with `{REGENERATE}`. Do not edit. -->\n\
         > Generated from the code ({sources}). After a change there, regenerate it with \
         `{REGENERATE}`; `cargo test` fails while this file and the code disagree.\n\n"
    )
}

/// Every generated file: its path under `docs/` and its text.
pub fn generate() -> Result<Vec<(String, String)>> {
    let mut files = vec![
        (
            "script-api.md".to_string(),
            api::script_api(&header(
                "`FUNCTIONS` in src/script/api/mod.rs, the `*_PROPS` tables in src/script/records/, the enums in src/model/",
            )),
        ),
        (
            "file-formats.md".to_string(),
            formats::file_formats(&header(
                "the column tables in src/format/mod.rs, the enums in src/model/, src/docs/values.rs",
            ))
            .map_err(anyhow::Error::msg)?,
        ),
        (
            "commands.md".to_string(),
            commands::commands(&header("the clap definitions in src/cli/args.rs")),
        ),
    ];
    for (name, page) in commands::man_pages()? {
        let note = format!(
            ".\\\" Generated from src/cli/args.rs; regenerate with `{REGENERATE}`. Do not edit.\n"
        );
        files.push((format!("man/{name}"), note + page.as_str()));
    }
    Ok(files)
}
