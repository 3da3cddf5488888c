//! Embedding casebook's script engine in another Rust program.
//!
//! Opens a ledger read-only, builds the sandboxed engine with the whole script
//! API bound to it as of a date, runs a rule and reads what it emitted.
//!
//!     cargo run --example embed -- casebook.redb 2019-02-20
//!
//! (`cargo run --release -- demo` creates `casebook.redb`.)

use casebook::ledger::Ledger;
use casebook::script::{Limits, ScriptHost};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let db = args.next().unwrap_or_else(|| "casebook.redb".into());
    let as_of = casebook::model::parse_date(&args.next().unwrap_or_else(|| "2019-02-20".into()))?;

    // A reader never blocks, and is never blocked by, the nightly writer.
    let ledger = Ledger::open_read(std::path::Path::new(&db))?;
    let host = ScriptHost::new(&ledger, as_of, Default::default(), false, Limits::default())?;

    let rule = r#"
        // Overdue findings per district, as a policy officer would write it.
        for i in institutions() {
            let n = i.findings().filter(|f| f.overdue).len();
            if n > 0 { emit(#{district: i.district, id: i.id, overdue: n}); }
        }
    "#;
    let ast = host.compile(rule)?;
    let mut scope = host.scope();
    if let Err(e) = host.run(&mut scope, &ast) {
        // The same words, file:line:col and caret the command line prints.
        let d = casebook::script::diag::runtime_diag(&e, &host.limits);
        eprint!("{}", d.render("embedded rule", rule));
        std::process::exit(1);
    }

    let out = host.take_output();
    let mut per_district = std::collections::BTreeMap::<String, i64>::new();
    for row in out.rows.iter() {
        let d = row["district"].to_string();
        *per_district.entry(d).or_default() += row["overdue"].as_int().unwrap_or(0);
    }
    println!(
        "{} institutions with overdue findings as of {as_of}",
        out.rows.len()
    );
    for (d, n) in per_district {
        println!("  {d}: {n} overdue findings");
    }
    Ok(())
}
