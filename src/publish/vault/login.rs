//! Logging in: a token read from VAULT_TOKEN or a file, or a login at one of the three auth
//! methods (AppRole, Kubernetes, TLS certificate) that trade their credential for a token.
//! Credentials are read from files at login time and held only as [`SecretString`]s.

use std::path::Path;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::config::{Auth, TokenSource};
use super::http::Vault;
use crate::{Error, Result};

/// Reads a credential file, trimmed; an empty file is a usage error naming the file.
fn read_secret_file(what: &'static str, p: &Path) -> Result<SecretString> {
    let raw = std::fs::read_to_string(p).map_err(|source| Error::Io {
        action: what,
        path: p.display().to_string(),
        source,
    })?;
    let v = raw.trim();
    if v.is_empty() {
        return Err(Error::usage(format!(
            "{} is empty: write the credential into it",
            p.display()
        )));
    }
    Ok(SecretString::from(v.to_string()))
}

impl Vault {
    /// Sets the token: read it, or log in for one.
    pub(super) async fn login(&mut self) -> Result<()> {
        let (mount, body) = match self.settings.auth.clone() {
            Auth::Token(TokenSource::Env) => {
                let t = std::env::var("VAULT_TOKEN").unwrap_or_default();
                self.token = Some(SecretString::from(t.trim().to_string()));
                return Ok(());
            }
            Auth::Token(TokenSource::File(p)) => {
                self.token = Some(read_secret_file("cannot read the Vault token file", &p)?);
                return Ok(());
            }
            Auth::AppRole {
                mount,
                role_id_file,
                secret_id_file,
            } => {
                let role = read_secret_file("cannot read the AppRole role id file", &role_id_file)?;
                let secret =
                    read_secret_file("cannot read the AppRole secret id file", &secret_id_file)?;
                (
                    mount,
                    json!({"role_id": role.expose_secret(), "secret_id": secret.expose_secret()}),
                )
            }
            Auth::Kubernetes {
                mount,
                role,
                jwt_file,
            } => {
                let jwt = read_secret_file("cannot read the service-account token", &jwt_file)?;
                (mount, json!({"role": role, "jwt": jwt.expose_secret()}))
            }
            Auth::Cert { mount, name } => {
                (mount, name.map(|n| json!({"name": n})).unwrap_or(json!({})))
            }
        };
        let path = format!("auth/{mount}/login");
        let r = self.send(Method::POST, &path, Some(&body)).await?;
        if r.status != 200 {
            let why = r.errors();
            return Err(Error::runtime(format!(
                "vault login at {path} failed ({}{}): check the credentials and that the auth \
                 method is enabled at {mount}/",
                r.status,
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {why}")
                }
            )));
        }
        let token = r.body["auth"]["client_token"].as_str().unwrap_or("");
        if token.is_empty() {
            return Err(Error::runtime(format!(
                "vault login at {path} returned no client token"
            )));
        }
        tracing::info!(path, "logged in to vault");
        self.token = Some(SecretString::from(token.to_string()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_credential_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("role-id");
        std::fs::write(&p, " \n").unwrap();
        let e = read_secret_file("cannot read", &p).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            format!("{} is empty: write the credential into it", p.display())
        );
        std::fs::write(&p, "abc\n").unwrap();
        assert_eq!(
            read_secret_file("cannot read", &p).unwrap().expose_secret(),
            "abc"
        );
    }
}
