//! TLS towards Vault: the rustls client configuration the settings ask for (CA bundle or
//! folder, client certificate, `VAULT_TLS_SERVER_NAME`, `VAULT_SKIP_VERIFY`), the verifiers
//! that implement those, and the typed inspection of a failed handshake (by error type, never
//! by message text).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::config::Settings;
use crate::{Error, Result};

/// Accepts any certificate (VAULT_SKIP_VERIFY=true) but still checks handshake signatures.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end: &CertificateDer<'_>,
        _inter: &[CertificateDer<'_>],
        _name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        msg: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            msg,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        msg: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            msg,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The verifier for an `http://` address: refuses every certificate (see `tls_config`).
#[derive(Debug)]
struct PlainHttpOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for PlainHttpOnly {
    fn verify_server_cert(
        &self,
        _end: &CertificateDer<'_>,
        _inter: &[CertificateDer<'_>],
        _name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Err(rustls::Error::General(
            "VAULT_ADDR is http://, so no certificate is trusted: use an https:// address".into(),
        ))
    }
    fn verify_tls12_signature(
        &self,
        _msg: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(
            "no TLS for an http:// VAULT_ADDR".into(),
        ))
    }
    fn verify_tls13_signature(
        &self,
        _msg: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(
            "no TLS for an http:// VAULT_ADDR".into(),
        ))
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Verifies the certificate against VAULT_TLS_SERVER_NAME instead of the URL's host (SNI
/// still carries the URL's host: reqwest derives it from the URL).
#[derive(Debug)]
struct Renamed {
    inner: Arc<dyn ServerCertVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for Renamed {
    fn verify_server_cert(
        &self,
        end: &CertificateDer<'_>,
        inter: &[CertificateDer<'_>],
        _name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end, inter, &self.name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        msg: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(msg, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        msg: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(msg, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn read_file(action: &'static str, p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).map_err(|source| Error::Io {
        action,
        path: p.display().to_string(),
        source,
    })
}

fn pem_certs(what: &str, p: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = read_file("cannot read", p)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::usage(format!(
                "{what} {}: not a PEM certificate file: {e}",
                p.display()
            ))
        })?;
    Ok(certs)
}

/// The rustls configuration the settings ask for.
pub(super) fn tls_config(s: &Settings) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls_err = |e: rustls::Error| Error::usage(format!("cannot set up TLS for Vault: {e}"));
    let mut verifier: Arc<dyn ServerCertVerifier> = if s.skip_verify {
        Arc::new(NoVerify(provider.clone()))
    } else if s.ca_cert.is_some() || s.ca_path.is_some() {
        let mut roots = RootCertStore::empty();
        let mut files = Vec::new();
        if let Some(f) = &s.ca_cert {
            files.push(f.clone());
        }
        if let Some(dir) = &s.ca_path {
            let rd = std::fs::read_dir(dir).map_err(|source| Error::Io {
                action: "cannot read the CA folder",
                path: dir.display().to_string(),
                source,
            })?;
            let mut in_dir: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            in_dir.sort();
            files.extend(in_dir);
        }
        for f in &files {
            for c in pem_certs("Vault CA", f)? {
                roots.add(c).map_err(|e| {
                    Error::usage(format!(
                        "Vault CA {}: unusable certificate: {e}",
                        f.display()
                    ))
                })?;
            }
        }
        if roots.is_empty() {
            return Err(Error::usage(
                "VAULT_CACERT/VAULT_CAPATH hold no PEM certificate: point them at Vault's CA",
            ));
        }
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| Error::usage(format!("cannot use the Vault CA: {e}")))?
    } else if s.addr.scheme() == "http" {
        // A plain-HTTP address never verifies a certificate, and loading the system trust
        // store (every file in /etc/ssl/certs) costs more than all the Vault requests of a
        // publish together (docs/PERFORMANCE.md). Should a redirect lead to https after all,
        // the handshake is refused rather than trusted blindly.
        Arc::new(PlainHttpOnly(provider.clone()))
    } else {
        Arc::new(rustls_platform_verifier::Verifier::new(provider.clone()).map_err(tls_err)?)
    };
    if let Some(n) = &s.tls_server_name {
        let name = ServerName::try_from(n.clone()).map_err(|_| {
            Error::usage(format!(
                "invalid VAULT_TLS_SERVER_NAME {n:?}: expected a DNS name or IP"
            ))
        })?;
        verifier = Arc::new(Renamed {
            inner: verifier,
            name,
        });
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    match (&s.client_cert, &s.client_key) {
        (Some(c), Some(k)) => {
            let certs = pem_certs("Vault client certificate", c)?;
            let key_pem = read_file("cannot read", k)?;
            let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| {
                Error::usage(format!(
                    "Vault client key {}: not a PEM private key",
                    k.display()
                ))
            })?;
            builder.with_client_auth_cert(certs, key).map_err(tls_err)
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}

/// How a TLS handshake failed, read from the error's source chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TlsFailure {
    /// The peer answered something that is not TLS (a plain-HTTP server).
    NotTls,
    /// Any other TLS error: an untrusted or mismatched certificate, a refused handshake.
    Other,
}

/// Finds a rustls error in `e`'s source chain. `std::io::Error::source()` skips the error it
/// wraps (it returns the inner error's own source), and the TLS stream nests io errors, so a
/// wrapped error is opened with `get_ref()` instead.
pub(super) fn tls_failure(e: &(dyn std::error::Error + 'static)) -> Option<TlsFailure> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(match r {
                rustls::Error::InvalidMessage(_) => TlsFailure::NotTls,
                _ => TlsFailure::Other,
            });
        }
        cur = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn tls_failures_are_found_by_type_through_io_errors() {
        let not_tls = Outer(std::io::Error::other(rustls::Error::InvalidMessage(
            rustls::InvalidMessage::InvalidContentType,
        )));
        assert_eq!(tls_failure(&not_tls), Some(TlsFailure::NotTls));
        // As the TLS stream reports it: an io error inside an io error.
        let untrusted = Outer(std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        )));
        assert_eq!(tls_failure(&untrusted), Some(TlsFailure::Other));
        // Text that merely mentions TLS is not a TLS error.
        let text = Outer(std::io::Error::other("tls certificate handshake ssl"));
        assert_eq!(tls_failure(&text), None);
    }
}
