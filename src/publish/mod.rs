//! Publishing a token's join record to sinks (Vault KV, files, Kubernetes Secrets, CI formats).
//! Filled in by the publish issue.
