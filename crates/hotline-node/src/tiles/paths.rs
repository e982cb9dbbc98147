//! C2SP tlog-tiles resource paths: `tile/<L>/<N>[.p/<W>]` for hash tiles and
//! `tile/entries/<N>[.p/<W>]` for entry bundles, with `N` written in
//! 3-digit segments, all but the last prefixed `x` (`1234067` is
//! `x001/x234/067`), and `W` in `1..=255` only for partial tiles.

/// Hashes (or entries) in a full tile.
pub const WIDTH: u16 = 256;

/// The deepest tile level a tree of up to 2^64 leaves has: level `L` holds
/// hashes at tree level `8·L`, and tree levels stop at 63.
pub const MAX_LEVEL: u8 = 7;

/// What a tile path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A hash tile at this tile level.
    Hashes(u8),
    /// An entry bundle.
    Entries,
}

/// A parsed tile path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TilePath {
    /// Hash tile or entry bundle.
    pub kind: Kind,
    /// The tile index within its level.
    pub n: u64,
    /// Its width: `256` for a full tile, `1..=255` for a partial one.
    pub width: u16,
}

/// Why a path is not a tile path.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed tile path {path:?}: {why}")]
pub struct BadPath {
    path: String,
    why: &'static str,
}

impl TilePath {
    /// Whether this is a full (immutable) tile.
    pub fn is_full(&self) -> bool {
        self.width == WIDTH
    }

    /// Parses the part of a path after `tile/`, exactly as the spec writes
    /// it: no leading zeros dropped, no empty segments, nothing after.
    pub fn parse(rest: &str) -> Result<Self, BadPath> {
        let bad = |why| BadPath {
            path: format!("tile/{rest}"),
            why,
        };
        // The longest valid path: `entries/` + 7 segments + `.p/255`.
        if rest.len() > 64 {
            return Err(bad("too long"));
        }
        let mut parts: Vec<&str> = rest.split('/').collect();
        if parts.len() < 2 {
            return Err(bad("expected <L>/<N> or entries/<N>"));
        }
        let kind = match parts[0] {
            "entries" => Kind::Entries,
            l => {
                if l.len() != 1 || !l.as_bytes()[0].is_ascii_digit() {
                    return Err(bad("the level is one decimal digit"));
                }
                let l = l.as_bytes()[0] - b'0';
                if l > MAX_LEVEL {
                    return Err(bad("no tree has a tile level above 7"));
                }
                Kind::Hashes(l)
            }
        };
        let mut width = WIDTH;
        let last = parts.len() - 1;
        if parts.len() >= 3 && parts[last - 1].ends_with(".p") {
            let w = parts[last];
            if w.is_empty()
                || !w.bytes().all(|c| c.is_ascii_digit())
                || w.starts_with('0')
                || w.len() > 3
            {
                return Err(bad("a partial width is 1 to 255, without leading zeros"));
            }
            let w: u16 = w.parse().map_err(|_| bad("bad partial width"))?;
            if w >= WIDTH {
                return Err(bad("a partial width is 1 to 255 (256 is the full tile)"));
            }
            width = w;
            parts[last - 1] = parts[last - 1].trim_end_matches(".p");
            parts.pop();
        }
        let segs = &parts[1..];
        let mut n: u64 = 0;
        for (i, s) in segs.iter().enumerate() {
            let digits = if i + 1 < segs.len() {
                s.strip_prefix('x')
                    .ok_or_else(|| bad("every segment of N but the last starts with x"))?
            } else {
                s
            };
            if digits.len() != 3 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad("each segment of N is three decimal digits"));
            }
            let d: u64 = digits.parse().map_err(|_| bad("bad digits"))?;
            n = n
                .checked_mul(1000)
                .and_then(|n| n.checked_add(d))
                .ok_or_else(|| bad("N is beyond any tree"))?;
        }
        let p = TilePath { kind, n, width };
        // Leading x000 segments are not the shortest form: the spec has one
        // path per tile.
        if p.path() != format!("tile/{rest}") {
            return Err(bad("not the canonical form of its N"));
        }
        Ok(p)
    }

    /// The path, `tile/…`, as the spec writes it.
    pub fn path(&self) -> String {
        let kind = match self.kind {
            Kind::Hashes(l) => l.to_string(),
            Kind::Entries => "entries".to_owned(),
        };
        let mut n = self.n;
        let mut s = format!("{:03}", n % 1000);
        while n >= 1000 {
            n /= 1000;
            s = format!("x{:03}/{s}", n % 1000);
        }
        if self.is_full() {
            format!("tile/{kind}/{s}")
        } else {
            format!("tile/{kind}/{s}.p/{}", self.width)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(kind: Kind, n: u64, width: u16) -> TilePath {
        TilePath { kind, n, width }
    }

    #[test]
    fn the_spec_examples_parse_and_print() {
        // c2sp.org/tlog-tiles: "For example, index 1234067 will be encoded
        // as x001/x234/067", and a partial tile has a `.p/<W>` suffix.
        let cases = [
            ("0/x001/x234/067", p(Kind::Hashes(0), 1_234_067, 256)),
            ("1/x001/x234/067.p/8", p(Kind::Hashes(1), 1_234_067, 8)),
            ("entries/x001/x234/067", p(Kind::Entries, 1_234_067, 256)),
            ("entries/000.p/1", p(Kind::Entries, 0, 1)),
            ("0/000", p(Kind::Hashes(0), 0, 256)),
            ("2/999.p/255", p(Kind::Hashes(2), 999, 255)),
            ("0/x001/000", p(Kind::Hashes(0), 1000, 256)),
            (
                "7/x018/x446/x744/x073/x709/x551/615",
                p(Kind::Hashes(7), u64::MAX, 256),
            ),
        ];
        for (s, want) in cases {
            assert_eq!(TilePath::parse(s), Ok(want), "{s}");
            assert_eq!(want.path(), format!("tile/{s}"));
        }
    }

    #[test]
    fn malformed_paths_are_refused() {
        for s in [
            "",
            "0",
            "0/",
            "0/1",
            "0/01",
            "0/0001",
            "0/x000/001",
            "0/001/002",
            "0/x001",
            "0/001.p/0",
            "0/001.p/256",
            "0/001.p/0256",
            "0/001.p/08",
            "0/001.p/",
            "0/001.p",
            "0/001.p/8/9",
            "8/000",
            "10/000",
            "-1/000",
            "data/000",
            "entries/",
            "entries/../000",
            "../checkpoint",
            "0/../../etc/passwd",
            "0/%2e%2e/000",
            "0/x018/x446/x744/x073/x709/x551/616",
            "0/x999/x999/x999/x999/x999/x999/x999/999",
            "0/00a",
            "0/+01",
            "0/000/",
        ] {
            assert!(TilePath::parse(s).is_err(), "{s:?} parsed");
        }
    }

    #[test]
    fn paths_agree_with_the_tlog_tiles_crate() {
        // tlog_tiles writes Go's `tile/H/L/N`; C2SP drops the height (8).
        for n in [0, 1, 999, 1000, 1_234_067, 999_999_999, u64::MAX >> 8] {
            for w in [1u16, 7, 255, 256] {
                let ours = p(Kind::Hashes(3), n, w).path();
                let theirs = tlog_tiles::Tile::new(8, 3, n, u32::from(w), false).path();
                assert_eq!(ours, theirs.replacen("tile/8/", "tile/", 1));
            }
        }
    }
}
