use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};

use super::util::{Served, bin, hotline, json, ok};

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Every directory in `dir` is 0700 and every file 0600; returns how many
/// of each it checked.
fn all_private(dir: &Path) -> (usize, usize) {
    let (mut dirs, mut files) = (0, 0);
    let mut todo = vec![dir.to_owned()];
    while let Some(p) = todo.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            assert_eq!(mode(&p), 0o700, "{}", p.display());
            dirs += 1;
            todo.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
            files += 1;
        }
    }
    (dirs, files)
}

/// `hotline init` under umask 000 still makes every directory 0700 and every
/// file 0600; after `serve` and a send, so are the database's WAL and
/// shared-memory files, run/, its socket and address files.
#[test]
fn init_and_serve_make_everything_private_whatever_the_umask() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("us");
    let d = dir.to_str().unwrap();
    let o = Command::new("sh")
        .args([
            "-c",
            r#"umask 000 && exec "$0" init --party us --dir "$1""#,
            bin(),
            d,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (dirs, files) = all_private(&dir);
    assert!(dirs >= 4 && files >= 6, "{dirs} directories, {files} files");
    for f in [
        "hotline.toml",
        "hotline.db",
        "api.token",
        "keys/log.key",
        "keys/tls.key",
    ] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    ok(&["office", "add", "us/fbi", "--dir", d]);

    let served = Served::start(&dir);
    // Through the running node, so into the WAL.
    ok(&["office", "add", "us/cia", "--dir", d]);
    for f in [
        "run",
        "run/api.addr",
        "run/api.sock",
        "hotline.db-wal",
        "hotline.db-shm",
    ] {
        assert!(dir.join(f).exists(), "{f} exists while the node runs");
    }
    all_private(&dir);
    drop(served);
}

/// A directory loosened by hand (chmod 0755, a 0644 hotline.toml): `serve`
/// warns about both and still starts; `hotline doctor` reports them and
/// fails; `doctor --fix` repairs them; `doctor` then passes.
#[test]
fn serve_warns_about_loose_modes_and_doctor_fixes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("us");
    let d = dir.to_str().unwrap();
    ok(&["init", "--party", "us", "--dir", d]);
    let clean = json(&ok(&["doctor", "--dir", d, "--json"]));
    assert_eq!(clean["ok"], true, "{clean}");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        dir.join("hotline.toml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();

    // serve warns, naming both, and serves anyway.
    let mut child = Command::new(bin())
        .args([
            "serve",
            "--dir",
            d,
            "--listen",
            "127.0.0.1:0",
            "--peer-listen",
            "127.0.0.1:0",
        ])
        .env("HOTLINE_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut warned = Vec::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("serving the API") {
            break;
        }
        warned.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    let warned = warned.join("\n");
    assert!(
        warned.contains(&format!("warning: {d} is mode 0755; it should be 0700")),
        "{warned}"
    );
    assert!(
        warned.contains(&format!(
            "warning: {d}/hotline.toml is mode 0644; it should be 0600"
        )),
        "{warned}"
    );
    assert!(warned.contains("hotline doctor --fix"), "{warned}");

    let o = hotline(&["doctor", "--dir", d, "--json"]);
    assert!(!o.status.success(), "doctor passes a 0755 directory");
    let found = json(&String::from_utf8(o.stdout).unwrap());
    assert_eq!(found["ok"], false, "{found}");
    let paths: Vec<&str> = found["loose"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&d), "{found}");
    assert!(
        paths.iter().any(|p| p.ends_with("/hotline.toml")),
        "{found}"
    );

    let fixed = json(&ok(&["doctor", "--fix", "--dir", d, "--json"]));
    assert_eq!(fixed["ok"], true, "{fixed}");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("hotline.toml")), 0o600);
    let out = ok(&["doctor", "--dir", d]);
    assert!(out.contains("nothing to fix"), "{out}");
}
