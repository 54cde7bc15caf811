//! `schedule`: installs the systemd service and timer that rotate and publish tokens (lands
//! with the schedule issue; until then it says so and exits 1 rather than pretending).

use crate::cli::GlobalArgs;
use crate::{Error, Result};

/// Install, inspect or remove the systemd timer that rotates and publishes join tokens on
/// control-plane nodes.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// install, render, status, uninstall or run.
    pub action: Option<String>,
}

/// Not available yet.
pub async fn run(_g: &GlobalArgs, _a: &Args) -> Result<String> {
    Err(Error::NotYetAvailable("schedule"))
}
