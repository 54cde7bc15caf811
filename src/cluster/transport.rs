//! The apiserver transport: the kube crate's client stack (base URI, credentials, extra
//! headers, kube's retry policy, its TLS configuration from the kubeconfig) over a connector
//! that offers HTTP/2 by ALPN, as kubectl does.
//!
//! Why not `kube::Client::try_from(config)`: the kube crate speaks HTTP/1.1 only, so two
//! requests at once cost two TLS handshakes (each with a client-certificate signature on our
//! side and a handshake on the apiserver's), and on HTTP/1.1 the second request of `create`
//! (cluster-info) waits for the first (the token's POST). Over one HTTP/2 connection both go
//! out together on one handshake (docs/PERFORMANCE.md has the measurements). A server or
//! proxy that does not offer `h2` gets HTTP/1.1 as before, and a kubeconfig with a
//! `proxy-url` keeps the kube crate's own client (its proxy connectors).
//!
//! Only `create` asks for it ([`super::Offer::Http2`]); the other commands keep the kube
//! crate's HTTP/1.1 client (a long streamed LIST reads slower over HTTP/2's frames).
//! [`FirstConnection`] tells a caller which protocol the first connection negotiated, so
//! `create` can send cluster-info's GET beside the POST on HTTP/2 and after it on HTTP/1.1
//! (where it reuses the connection instead of opening a second one).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::{Connection, HttpConnector};
use hyper_util::rt::TokioExecutor;
use kube::client::ConfigExt;
use kube::config::Config;
use tokio::sync::watch;
use tower::{BoxError, ServiceBuilder};

/// What the first connection to the apiserver negotiated; `None` until it is up.
#[derive(Clone, Debug)]
pub struct FirstConnection(watch::Receiver<Option<Protocol>>);

/// The HTTP version of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1: one request at a time per connection.
    Http1,
    /// HTTP/2 (ALPN `h2`): requests share the connection.
    Http2,
}

impl FirstConnection {
    /// One that never reports (clients this module did not build).
    pub fn unknown() -> Self {
        let (_tx, rx) = watch::channel(None);
        FirstConnection(rx)
    }

    /// Waits until the first connection is up and returns its protocol; `None` when no
    /// connection will report (the client is gone, or was not built here).
    pub async fn protocol(&self) -> Option<Protocol> {
        let mut rx = self.0.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(p) => *p,
            Err(_) => None,
        }
    }
}

/// Builds the client for `config` (without a proxy: the caller uses the kube crate's client
/// for those).
pub fn client(config: Config) -> kube::Result<(kube::Client, FirstConnection)> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    // Without it, Nagle's algorithm holds a small write (an HTTP/2 frame after the HEADERS
    // frame of the same request) until the server ACKs the previous one, and the server delays
    // that ACK up to 40 ms waiting for the rest of the request: measured as 40 ms stalls of the
    // POST. (Go clients and servers, kubectl's and the apiserver's, set it by default.)
    http.set_nodelay(true);
    // kube's own TLS settings: CA bundle, client certificate (or exec plugin identity),
    // insecure-skip-tls-verify, the in-cluster CA that is re-read on rotation.
    let tls = config.rustls_client_config()?;
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let builder = match &config.tls_server_name {
        Some(name) => {
            let name = rustls::pki_types::ServerName::try_from(name.clone()).map_err(|e| {
                kube::Error::RustlsTls(kube::client::RustlsTlsError::InvalidServerName(e))
            })?;
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
        }
        None => builder,
    };
    let https = builder.enable_all_versions().wrap_connector(http);
    let mut timed = hyper_timeout::TimeoutConnector::new(https);
    timed.set_connect_timeout(config.connect_timeout);
    timed.set_read_timeout(config.read_timeout);
    timed.set_write_timeout(config.write_timeout);
    let (tx, rx) = watch::channel(None);
    let connector = Reporting {
        inner: timed,
        tx: std::sync::Arc::new(tx),
    };
    let hyper = hyper_util::client::legacy::Builder::new(TokioExecutor::new()).build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.default_retry.then(|| {
            tower::retry::RetryLayer::new(kube::client::retry::RetryPolicy::server_retry())
        }))
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        // What kube's trace layer logged at debug (-v 4): each request and its status. URLs
        // carry names and selectors, never a token; headers and bodies are not logged.
        .map_request(|r: http::Request<kube::client::Body>| {
            tracing::debug!(method = %r.method(), url = %r.uri(), "requesting");
            r
        })
        .map_response(|r: http::Response<_>| {
            tracing::debug!(status = r.status().as_u16(), "response");
            r
        })
        .map_err(BoxError::from)
        .service(hyper);
    // kube's builder also records when an exec plugin's client certificate expires
    // (`Client::valid_until`); nothing here reads it, and a command lives far shorter.
    let client = kube::Client::new(service, config.default_namespace);
    Ok((client, FirstConnection(rx)))
}

/// A connector that reports the protocol of the first connection it makes.
#[derive(Clone)]
struct Reporting<C> {
    inner: C,
    tx: std::sync::Arc<watch::Sender<Option<Protocol>>>,
}

impl<C> tower::Service<http::Uri> for Reporting<C>
where
    C: tower::Service<http::Uri>,
    C::Response: Connection,
    C::Future: Send + 'static,
{
    type Response = C::Response;
    type Error = C::Error;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, C::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let fut = self.inner.call(uri);
        let tx = self.tx.clone();
        Box::pin(async move {
            let io = fut.await?;
            let p = if io.connected().is_negotiated_h2() {
                Protocol::Http2
            } else {
                Protocol::Http1
            };
            tracing::debug!(protocol = ?p, "connected to the apiserver");
            // The first connection's protocol stays: later ones do not change it.
            tx.send_if_modified(|cur| {
                let first = cur.is_none();
                if first {
                    *cur = Some(p);
                }
                first
            });
            Ok(io)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A plain-HTTP stand-in (no TLS, so no ALPN: HTTP/1.1) that answers every GET with a
    /// small JSON body, keeps connections open, and counts them.
    fn standin() -> (String, Arc<AtomicUsize>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", l.local_addr().unwrap());
        let n = Arc::new(AtomicUsize::new(0));
        let count = n.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut r = BufReader::new(s.try_clone().unwrap());
                    let mut w = s;
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            let body = br#"{"major":"1","minor":"36"}"#;
                            let head = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                                 Content-Length: {}\r\n\r\n",
                                body.len()
                            );
                            let _ = w.write_all(head.as_bytes());
                            let _ = w.write_all(body);
                        }
                    }
                });
            }
        });
        (addr, n)
    }

    #[tokio::test]
    async fn http1_is_reported_and_its_connection_reused() {
        let (addr, conns) = standin();
        let (client, first) = client(kube::Config::new(addr.parse().unwrap())).unwrap();
        for _ in 0..3 {
            let v = client.apiserver_version().await.unwrap();
            assert_eq!(v.minor, "36");
        }
        assert_eq!(first.protocol().await, Some(Protocol::Http1));
        assert_eq!(conns.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_unknown_first_connection_does_not_block() {
        assert_eq!(FirstConnection::unknown().protocol().await, None);
    }
}
