//! Notices (整改通知书, 逾期催告, 列入黑名单告知书): Jinja templates staff can
//! edit in `templates/`, rendered with minijinja, written only under `--out`,
//! and recorded in the ledger's notice register so a re-run never issues the
//! same notice twice on one day.

use std::path::{Path, PathBuf};

/// Where notices come from and go to.
#[derive(Debug, Clone)]
pub struct NoticeCfg {
    /// The run's `--out` directory; notices go to `OUT/notices/KIND/`.
    pub out: PathBuf,
    /// The templates directory (`--templates`, default `templates/`).
    pub templates: PathBuf,
}

/// Template file name extensions tried, in order, for a notice kind.
const EXTS: &[&str] = &["txt", "md", "html"];

/// Checks a notice kind: it names a template file, so letters, digits and `_` only.
pub fn check_kind(kind: &str) -> Result<(), String> {
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "notice kind \"{kind}\" must be letters, digits and _ (it names the template templates/{kind}.txt.j2)"
        ));
    }
    Ok(())
}

/// Renders the template of `kind` with `ctx`; returns (file extension, text).
pub fn render(
    cfg: &NoticeCfg,
    kind: &str,
    ctx: &serde_json::Value,
) -> Result<(&'static str, String), String> {
    check_kind(kind)?;
    let Some((ext, path)) = EXTS
        .iter()
        .map(|e| (*e, cfg.templates.join(format!("{kind}.{e}.j2"))))
        .find(|(_, p)| p.is_file())
    else {
        return Err(format!(
            "no template for notice kind \"{kind}\": expected {} (--templates DIR)",
            cfg.templates.join(format!("{kind}.txt.j2")).display()
        ));
    };
    let src = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut env = minijinja::Environment::new();
    // HTML notices escape what they insert; text notices print it as it is.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html.j2") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("notice")
        .to_string();
    env.add_template_owned(name.clone(), src)
        .map_err(|e| template_error(&path, &e))?;
    let t = env
        .get_template(&name)
        .map_err(|e| template_error(&path, &e))?;
    let text = t
        .render(minijinja::Value::from_serialize(ctx))
        .map_err(|e| template_error(&path, &e))?;
    Ok((ext, text))
}

fn template_error(path: &Path, e: &minijinja::Error) -> String {
    match e.line() {
        Some(l) => format!("template {}:{l}: {}", path.display(), e),
        None => format!("template {}: {}", path.display(), e),
    }
}

/// The relative file a notice is written to: `notices/KIND/ID-DATE.EXT`, from safe characters only.
pub fn file_name(kind: &str, id: &str, date: &str, ext: &str) -> (PathBuf, String) {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        PathBuf::from("notices").join(kind),
        format!("{safe}-{date}.{ext}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_cannot_leave_the_templates_directory() {
        assert!(check_kind("../etc/passwd").is_err());
        assert!(check_kind("overdue_reminder").is_ok());
        let (dir, name) = file_name("overdue_reminder", "../../x", "2019-02-20", "txt");
        assert_eq!(dir, PathBuf::from("notices/overdue_reminder"));
        assert_eq!(name, "______x-2019-02-20.txt");
    }

    #[test]
    fn html_templates_escape_and_text_templates_do_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.html.j2"), "<p>{{ name }}</p>").unwrap();
        std::fs::write(dir.path().join("b.txt.j2"), "{{ name }}").unwrap();
        let cfg = NoticeCfg {
            out: dir.path().into(),
            templates: dir.path().into(),
        };
        let ctx = serde_json::json!({"name": "<b>启航</b>"});
        assert_eq!(
            render(&cfg, "a", &ctx).unwrap().1,
            "<p>&lt;b&gt;启航&lt;&#x2f;b&gt;</p>"
        );
        assert_eq!(render(&cfg, "b", &ctx).unwrap().1, "<b>启航</b>");
        assert!(render(&cfg, "c", &ctx).unwrap_err().contains("no template"));
    }
}
