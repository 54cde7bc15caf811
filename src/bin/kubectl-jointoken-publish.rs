//! `kubectl-jointoken-publish`: found by kubectl's plugin lookup; all behaviour lives in the library.
fn main() -> std::process::ExitCode {
    kubectl_jointoken::main(kubectl_jointoken::Tool::Publish)
}
