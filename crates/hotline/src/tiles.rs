//! `hotline tiles token`: a read token for the C2SP tlog-tiles the node
//! serves under `/tiles/` (see docs/tiles.md).

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use hotline_node::dir::NodeDir;

use crate::DirArg;

#[derive(Subcommand)]
pub enum TilesCmd {
    /// Create a read token for /tiles/ (checkpoints, hash tiles, entry bundles of every log
    /// this node holds). Prints it once; the node keeps only its SHA-256 (DIR/tiles.tokens).
    Token {
        #[command(flatten)]
        dir: DirArg,
        /// Print the result as JSON (`token`, `header`).
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: TilesCmd) -> Result<()> {
    match cmd {
        TilesCmd::Token { dir, json } => {
            let d = NodeDir::new(&dir.dir);
            if !d.config().is_file() {
                bail!(
                    "{} is not a node directory (no hotline.toml); create one with `hotline init` or pass --dir",
                    dir.dir.display()
                );
            }
            let token = hotline_node::tiles::access::create_token(&d).with_context(|| {
                format!(
                    "writing {}",
                    hotline_node::tiles::access::tokens_file(&d).display()
                )
            })?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "token": token, "header": format!("Authorization: Bearer {token}") })
                );
            } else {
                println!("{token}");
                eprintln!(
                    "This read token is shown once; send it as `Authorization: Bearer <token>` to /tiles/."
                );
            }
            Ok(())
        }
    }
}
