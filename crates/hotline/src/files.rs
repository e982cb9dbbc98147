//! File arguments read the same way everywhere: `-` for standard input
//! where a command allows it, and "no such file: PATH" rather than the
//! operating system's bare "No such file or directory".

use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};

/// Fails with "no such file: PATH" (naming the flag) when `path` is missing.
pub fn must_exist(path: &Path, flag: &str) -> Result<()> {
    if path.as_os_str() != "-" && !path.exists() {
        bail!("no such file: {} (given to {flag})", path.display());
    }
    Ok(())
}

/// A text file's contents, or standard input for `-`.
pub fn read_text(path: &Path, flag: &str) -> Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .with_context(|| format!("reading {flag} from standard input"))?;
        return Ok(s);
    }
    must_exist(path, flag)?;
    std::fs::read_to_string(path).with_context(|| format!("reading {} ({flag})", path.display()))
}

/// A file's bytes.
pub fn read_bytes(path: &Path, flag: &str) -> Result<Vec<u8>> {
    must_exist(path, flag)?;
    std::fs::read(path).with_context(|| format!("reading {} ({flag})", path.display()))
}
