//! Entry ids as an operator types them: `party:index` anywhere an entry is
//! named, or a plain index for an entry of this party's own log, so that
//! the index `send` or `log` printed can be pasted back as it is.

use anyhow::{Result, bail};
use hotline_node::dir::NodeDir;

/// `party:index` for `id`, which is either that already or a plain index
/// into this party's own log. Checked before it goes anywhere (into a URL,
/// for one). `what` names the thing in the error (`inquiry`, `call`, …).
pub fn entry_id(dir: &NodeDir, id: &str, what: &str) -> Result<String> {
    let id = id.trim();
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        let party = dir.read_config()?.party;
        let full = format!("{party}:{id}");
        if hotline_proto::agreement::parse_id(&full).is_some() {
            return Ok(full);
        }
    } else if hotline_proto::agreement::parse_id(id).is_some() {
        return Ok(id.to_owned());
    }
    bail!(
        "{id:?} is not {} id (party:index, e.g. us:12); a plain index, 12, names an entry of this party's own log",
        article(what)
    )
}

/// The index in this party's own log that `id` names (`12` or `us:12`).
pub fn own_index(dir: &NodeDir, id: &str) -> Result<u64> {
    let full = entry_id(dir, id, "entry")?;
    let party = dir.read_config()?.party;
    match hotline_proto::agreement::parse_id(&full) {
        Some((p, i)) if p.as_str() == party => Ok(i),
        Some((p, _)) => bail!(
            "{full} is an entry of {p}'s log; `prove entry` proves entries of this party's own log ({party}); for an entry {p} sent here, use `hotline prove delivery {full}`"
        ),
        None => bail!("{id:?} is not an entry id"),
    }
}

fn article(what: &str) -> String {
    let an = what.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {what}", if an { "an" } else { "a" })
}
