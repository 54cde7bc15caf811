//! `publish`: stores a token's join command in Vault KV and other sinks (lands with the
//! publish issue; until then it says so and exits 1 rather than pretending).

use crate::cli::GlobalArgs;
use crate::{Error, Result};

/// Publish an existing bootstrap token (by id, or the newest valid one) to Vault KV, a file or a
/// Kubernetes Secret.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Token id to publish (default: the newest valid token).
    pub id: Option<String>,
    /// Where to publish: vault, file, secret (comma-separated).
    #[arg(long = "to", value_delimiter = ',')]
    pub to: Vec<String>,
}

/// Not available yet.
pub async fn run(_g: &GlobalArgs, _a: &Args) -> Result<String> {
    Err(Error::NotYetAvailable("publish"))
}
