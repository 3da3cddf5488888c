//! `:help`: the script API (functions, properties, dates) and the `:`
//! commands, or one of them by name, with a suggestion for a misspelt one.

use super::commands::COMMANDS;
use crate::script::api::FUNCTIONS;
use crate::script::diag;
use crate::script::records::{
    APPLICATION_PROPS, COURSE_PROPS, FINDING_PROPS, INSPECTION_PROPS, INSTITUTION_PROPS,
};

/// The text of `:help` and `:help NAME`.
pub fn help_text(name: &str, districts: &[String]) -> String {
    let name = name.trim().trim_end_matches("()");
    if name.is_empty() {
        let mut s = String::from("Functions (:help NAME for one):\n");
        for (_, sig, desc, _) in FUNCTIONS {
            s.push_str(&format!("  {sig:<34} {desc}\n"));
        }
        s.push_str("\nInstitution properties: ");
        s.push_str(
            &INSTITUTION_PROPS
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
                .join(" "),
        );
        s.push_str("\nFinding properties: ");
        s.push_str(
            &FINDING_PROPS
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
                .join(" "),
        );
        for (what, props) in [
            ("Inspection", INSPECTION_PROPS),
            ("Licence application", APPLICATION_PROPS),
            ("Course filing", COURSE_PROPS),
        ] {
            s.push_str(&format!("\n{what} properties: "));
            s.push_str(&props.iter().map(|p| p.name).collect::<Vec<_>>().join(" "));
        }
        s.push_str("\nDates: date(\"2019-02-20\"), d + 7, d - 7, d2 - d1 (days), d.year d.month d.day, < <= > >= == !=\n\nCommands:\n");
        for (_, h) in COMMANDS {
            s.push_str(&format!("  {h}\n"));
        }
        s.push_str("\nAn unclosed ( [ { or string continues on the next line. Tab completes; Ctrl-C cancels; Ctrl-D leaves.");
        return s;
    }
    let mut s = String::new();
    for (n, sig, desc, ex) in FUNCTIONS {
        if *n == name {
            s.push_str(&format!("{sig}\n  {desc}\n  example: {ex}\n"));
        }
    }
    for (what, props) in [
        ("institution", INSTITUTION_PROPS),
        ("finding", FINDING_PROPS),
        ("inspection", INSPECTION_PROPS),
        ("application", APPLICATION_PROPS),
        ("course", COURSE_PROPS),
    ] {
        for p in props.iter().filter(|p| p.name == name) {
            s.push_str(&crate::script::records::props::describe(what, p, districts));
        }
    }
    for (c, h) in COMMANDS {
        if c.trim_start_matches(':') == name.trim_start_matches(':') {
            s.push_str(&format!("{h}\n"));
        }
    }
    if s.is_empty() {
        let all = FUNCTIONS
            .iter()
            .map(|f| f.0)
            .chain(crate::script::records::all_props());
        match diag::did_you_mean(name, all) {
            Some(m) => format!("nothing called {name}; did you mean {m}?"),
            None => format!("nothing called {name}; :help lists everything"),
        }
    } else {
        s.trim_end().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_names_functions_and_suggests() {
        let d = ["天河".to_string()];
        assert!(help_text("findings", &d).contains("example"));
        assert!(help_text("overdeu", &d).contains("did you mean overdue"));
        assert!(help_text("", &d).contains(":as-of"));
        let cat = help_text("category", &d);
        assert!(
            cat.contains("学科类") && cat.contains("non_subject"),
            "{cat}"
        );
        assert!(help_text("district", &d).contains("天河区"));
    }
}
