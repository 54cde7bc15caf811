//! `fetch`: the node side: reads a published join record from Vault without a kubeconfig
//! (lands with the publish issue; until then it says so and exits 1 rather than pretending).

use crate::cli::GlobalArgs;
use crate::{Error, Result};

/// Fetch a published join command (or bootstrap kubeconfig) from Vault on a node that is not
/// in the cluster yet.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Not available yet.
pub async fn run(_g: &GlobalArgs, _a: &Args) -> Result<String> {
    Err(Error::NotYetAvailable("fetch"))
}
