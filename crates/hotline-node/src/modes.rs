//! File modes of a node directory: everything in it is for the node's own
//! user alone. The keys sign for the party, the token acts for it, and the
//! database holds the plaintext the party's offices may read, so a directory
//! other users can enter, or a file they can read, gives the party away.
//!
//! The node creates directories 0700 and files 0600 whatever the umask
//! ([`create_private_dir`](crate::dir::create_private_dir),
//! [`write_secret`](crate::dir::write_secret),
//! [`write_atomic`](crate::dir::write_atomic)); directories made by older
//! versions, restored from a backup or copied around may be looser, and
//! [`loose`] finds them so that `serve` can warn and `hotline doctor --fix`
//! can repair them.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::dir::NodeDir;

/// Mode of every directory in a node directory (and of itself).
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file (and socket) in a node directory.
pub const FILE_MODE: u32 = 0o600;

/// A path whose mode lets other users in.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Loose {
    /// The path.
    pub path: PathBuf,
    /// Its mode now (permission bits).
    pub mode: u32,
    /// The mode it should have.
    pub want: u32,
}

impl std::fmt::Display for Loose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is mode {:04o}; it should be {:04o} (others than this user can {} it)",
            self.path.display(),
            self.mode,
            self.want,
            if self.want == DIR_MODE {
                "enter or list"
            } else {
                "read or write"
            }
        )
    }
}

/// Every directory and file in `dir` (itself included) that group or others
/// may access. Symbolic links are not followed (their own mode means
/// nothing); what cannot be read is skipped, since the node could not read
/// it either and will say so when it needs it.
///
/// # Errors
///
/// The node directory itself cannot be read.
pub fn loose(dir: &NodeDir) -> std::io::Result<Vec<Loose>> {
    let mut out = Vec::new();
    let root = dir.root();
    std::fs::symlink_metadata(root)?;
    walk(root, &mut out);
    Ok(out)
}

fn walk(path: &Path, out: &mut Vec<Loose>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if meta.file_type().is_symlink() {
        return;
    }
    let mode = meta.permissions().mode() & 0o7777;
    let want = if meta.is_dir() { DIR_MODE } else { FILE_MODE };
    if mode & 0o077 != 0 {
        out.push(Loose {
            path: path.to_owned(),
            mode,
            want,
        });
    }
    if meta.is_dir()
        && let Ok(entries) = std::fs::read_dir(path)
    {
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            walk(&p, out);
        }
    }
}

/// Sets each path in `loose` to the mode it should have.
///
/// # Errors
///
/// The first path that cannot be changed (owned by another user, say).
pub fn fix(loose: &[Loose]) -> std::io::Result<()> {
    for l in loose {
        std::fs::set_permissions(&l.path, std::fs::Permissions::from_mode(l.want)).map_err(
            |e| {
                std::io::Error::new(
                    e.kind(),
                    format!("chmod {:04o} {}: {e}", l.want, l.path.display()),
                )
            },
        )?;
    }
    Ok(())
}
