//! `[[witnesses]]` in `hotline.toml`, edited in place: the operator's
//! comments, order and layout stay as written.

use std::path::Path;

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use crate::dir::WitnessConfig;

fn load(path: &Path) -> Result<DocumentMut, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    text.parse::<DocumentMut>()
        .map_err(|e| format!("{} is not TOML: {e}", path.display()))
}

fn save(path: &Path, doc: &DocumentMut) -> Result<(), String> {
    crate::dir::write_atomic(path, doc.to_string().as_bytes())
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Appends `w` to the `[[witnesses]]` of the file at `path`.
pub fn add(path: &Path, w: &WitnessConfig) -> Result<(), String> {
    let mut doc = load(path)?;
    let mut t = Table::new();
    t["url"] = value(w.url.trim_end_matches('/'));
    t["key"] = value(w.key.trim());
    match doc.get_mut("witnesses") {
        None => {
            let mut a = ArrayOfTables::new();
            a.push(t);
            doc.insert("witnesses", Item::ArrayOfTables(a));
        }
        Some(Item::ArrayOfTables(a)) => a.push(t),
        Some(_) => {
            return Err(format!(
                "{}: `witnesses` is not an array of tables ([[witnesses]]); fix it by hand",
                path.display()
            ));
        }
    }
    save(path, &doc)
}

/// Removes the entries whose URL or key name is `which`; how many went.
pub fn remove(
    path: &Path,
    which: &str,
    name_of: impl Fn(&str) -> Option<String>,
) -> Result<usize, String> {
    let mut doc = load(path)?;
    let which = which.trim_end_matches('/');
    let Some(Item::ArrayOfTables(a)) = doc.get_mut("witnesses") else {
        return Ok(0);
    };
    let before = a.len();
    a.retain(|t| {
        let url = t.get("url").and_then(|v| v.as_str()).unwrap_or("");
        let name = t.get("key").and_then(|v| v.as_str()).and_then(&name_of);
        !(url.trim_end_matches('/') == which || name.as_deref() == Some(which))
    });
    let gone = before - a.len();
    if a.is_empty() {
        doc.remove("witnesses");
    }
    if gone > 0 {
        save(path, &doc)?;
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_stay_and_entries_come_and_go() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("hotline.toml");
        std::fs::write(
            &p,
            "# ours\nparty = \"us\"\n\n[tiles]\npublic = true # keep\n",
        )
        .unwrap();
        let w = WitnessConfig {
            url: "https://w.example/".into(),
            key: "w+1+AQ".into(),
        };
        add(&p, &w).unwrap();
        add(
            &p,
            &WitnessConfig {
                url: "http://127.0.0.1:1".into(),
                ..w.clone()
            },
        )
        .unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.contains("# ours") && text.contains("public = true # keep"),
            "{text}"
        );
        #[derive(serde::Deserialize)]
        struct F {
            witnesses: Vec<WitnessConfig>,
        }
        let f: F = toml::from_str(&text).unwrap();
        assert_eq!(f.witnesses.len(), 2);
        assert_eq!(f.witnesses[0].url, "https://w.example");
        assert_eq!(remove(&p, "https://w.example/", |_| None).unwrap(), 1);
        assert_eq!(
            remove(&p, "w", |k| k.split('+').next().map(str::to_owned)).unwrap(),
            1
        );
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            !text.contains("witnesses") && text.contains("# ours"),
            "{text}"
        );
    }
}
