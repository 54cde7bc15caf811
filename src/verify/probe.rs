//! The network side of `verify`, using only what a joining node has: a TLS handshake that
//! records the certificate chain the endpoint presents (checked afterwards against the pinned
//! CAs), an anonymous read of cluster-info, and requests authenticated by the bootstrap token
//! alone (SelfSubjectReview, SelfSubjectAccessReview). No admin credential is ever used here,
//! and the token is only ever sent over TLS verified against a pinned CA.

use std::io::ErrorKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ClientConnection, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::{AuthError, Fetched};
use crate::token::Token;
use crate::{cluster_info, error::error_chain};

const TIMEOUT: Duration = Duration::from_secs(10);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts any certificate: used only to *record* the chain, which is verified afterwards
/// against the pinned CAs, exactly as kubeadm's discovery first reads without trusting.
#[derive(Debug)]
struct Record(Arc<CryptoProvider>);

impl ServerCertVerifier for Record {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn server_name(endpoint: &str) -> Result<ServerName<'static>, String> {
    let host = endpoint
        .rsplit_once(':')
        .map_or(endpoint, |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']');
    ServerName::try_from(host.to_string()).map_err(|e| format!("invalid host {host:?}: {e}"))
}

/// The certificate chain (DER, leaf first) the endpoint presents in a TLS handshake.
pub async fn presented_chain(endpoint: &str) -> Result<Vec<Vec<u8>>, String> {
    let endpoint = endpoint.to_string();
    tokio::task::spawn_blocking(move || handshake(&endpoint))
        .await
        .map_err(|e| format!("handshake task failed: {e}"))?
}

fn handshake(endpoint: &str) -> Result<Vec<Vec<u8>>, String> {
    let p = provider();
    let config = rustls::ClientConfig::builder_with_provider(p.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Record(p)))
        .with_no_client_auth();
    let name = server_name(endpoint)?;
    let addr = endpoint
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve: {e}"))?
        .next()
        .ok_or("the host resolves to no address")?;
    let mut sock = TcpStream::connect_timeout(&addr, TIMEOUT)
        .map_err(|e| format!("does not answer: {e}: is the apiserver running and reachable?"))?;
    let _ = sock.set_read_timeout(Some(TIMEOUT));
    let _ = sock.set_write_timeout(Some(TIMEOUT));
    let mut conn = ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        match conn.complete_io(&mut sock) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("TLS handshake failed: {e}: is it a TLS endpoint?")),
        }
    }
    let certs = conn
        .peer_certificates()
        .ok_or("the server presented no certificate")?;
    Ok(certs.iter().map(|c| c.as_ref().to_vec()).collect())
}

/// Verifies the presented `chain` for `endpoint` with `roots` (pinned CAs) as trust anchors.
pub fn verify_chain(chain: &[Vec<u8>], roots: &[Vec<u8>], endpoint: &str) -> Result<(), String> {
    let mut store = RootCertStore::empty();
    for r in roots {
        store
            .add(CertificateDer::from(r.clone()))
            .map_err(|e| format!("a pinned CA is not usable as a trust anchor: {e}"))?;
    }
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider())
        .build()
        .map_err(|e| e.to_string())?;
    let (leaf, rest) = chain.split_first().ok_or("empty certificate chain")?;
    let rest: Vec<CertificateDer<'_>> = rest.iter().map(|c| CertificateDer::from(&c[..])).collect();
    verifier
        .verify_server_cert(
            &CertificateDer::from(&leaf[..]),
            &rest,
            &server_name(endpoint)?,
            &[],
            UnixTime::now(),
        )
        .map(|_| ())
        .map_err(|e| format!("its certificate does not verify against the pinned CA: {e}"))
}

/// A client for `endpoint` that trusts `roots` (`None`: no verification, for the anonymous
/// discovery read only) and authenticates with `token` (`None`: anonymous).
pub fn client(
    endpoint: &str,
    roots: Option<&[Vec<u8>]>,
    token: Option<&Token>,
) -> Result<kube::Client, String> {
    let url = format!("https://{endpoint}")
        .parse()
        .map_err(|e| format!("invalid endpoint {endpoint}: {e}"))?;
    let mut config = kube::Config::new(url);
    match roots {
        Some(r) => config.root_cert = Some(r.to_vec()),
        None => config.accept_invalid_certs = true,
    }
    if let Some(t) = token {
        config.auth_info.token = Some(t.expose().into());
    }
    config.connect_timeout = Some(TIMEOUT);
    config.read_timeout = Some(TIMEOUT);
    kube::Client::try_from(config).map_err(|e| error_chain(&e))
}

/// Reads cluster-info with `client`.
pub async fn fetch_cluster_info(client: &kube::Client) -> Fetched {
    match cluster_info::read(client).await {
        Ok(Some(cm)) => Fetched::Data(cm.data.unwrap_or_default()),
        Ok(None) => Fetched::Missing,
        Err(kube::Error::Api(e)) if e.code == 401 || e.code == 403 => Fetched::Denied(e.code),
        Err(e) => Fetched::Failed(error_chain(&e)),
    }
}

/// Who `client`'s credentials are (SelfSubjectReview, as `kubectl auth whoami`).
pub async fn who_am_i(client: &kube::Client) -> Result<(String, Vec<String>), AuthError> {
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    match api
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
    {
        Ok(r) => {
            let u = r.status.and_then(|s| s.user_info).unwrap_or_default();
            Ok((u.username.unwrap_or_default(), u.groups.unwrap_or_default()))
        }
        Err(kube::Error::Api(e)) if e.code == 401 => Err(AuthError::Unauthorized),
        Err(e) => Err(AuthError::Other(error_chain(&e))),
    }
}

/// Whether `client`'s identity may `create` `certificatesigningrequests[/subresource]`
/// (SelfSubjectAccessReview: the same question the csrapproving controller asks).
pub async fn may_create_csr(
    client: &kube::Client,
    subresource: Option<&str>,
) -> Result<bool, String> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                group: Some("certificates.k8s.io".into()),
                resource: Some("certificatesigningrequests".into()),
                subresource: subresource.map(String::from),
                verb: Some("create".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    api.create(&PostParams::default(), &review)
        .await
        .map(|r| r.status.is_some_and(|s| s.allowed))
        .map_err(|e| error_chain(&e))
}
