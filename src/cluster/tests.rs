//! Fault stand-ins over real sockets for the client: paged and streamed protobuf LISTs, a
//! 410 between pages, a body cut off mid-stream, and the error messages of refused requests.

use super::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

/// Reads one request's head (no body: the stand-ins only get GETs); its request line.
fn request_line(s: &std::net::TcpStream) -> Option<String> {
    let mut r = BufReader::new(s.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            return Some(line);
        }
    }
}

/// A fault-injecting apiserver stand-in (plain HTTP, JSON): page one of a Secret list with
/// a continue token, then 410 Gone for that token (the snapshot was compacted), then, on
/// the restarted list, both Secrets in one page. Records what was asked.
fn gone_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", l.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        let mut lists = 0;
        for s in l.incoming().flatten() {
            let Some(line) = request_line(&s) else {
                continue;
            };
            let path = line.split(' ').nth(1).unwrap_or("").to_string();
            log.lock().unwrap().push(path.clone());
            let secret = |n: &str| {
                format!(
                    r#"{{"metadata":{{"name":"{n}","uid":"u-{n}"}},"type":"bootstrap.kubernetes.io/token"}}"#
                )
            };
            let (code, body) = if path.contains("continue=c1") {
                (410, r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"The provided continue parameter is too old","reason":"Expired","code":410}"#.to_string())
            } else if lists == 0 {
                lists += 1;
                (
                    200,
                    format!(
                        r#"{{"kind":"SecretList","apiVersion":"v1","metadata":{{"continue":"c1"}},"items":[{}]}}"#,
                        secret("a")
                    ),
                )
            } else {
                (
                    200,
                    format!(
                        r#"{{"kind":"SecretList","apiVersion":"v1","metadata":{{}},"items":[{},{}]}}"#,
                        secret("a"),
                        secret("b")
                    ),
                )
            };
            let mut s = s;
            let _ = write!(
                s,
                "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (addr, seen)
}

/// A protobuf apiserver stand-in that streams each List body in small chunks
/// (`Transfer-Encoding: chunked`, 97 bytes each, flushed one by one): page one (a, b) with
/// continue token `c1`, then page two (c). With `cut`, page two's connection closes after
/// that many bytes of its body, as a dying apiserver or proxy would.
fn streaming_server(cut: Option<usize>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let Some(line) = request_line(&s) else {
                    return;
                };
                let second = line.contains("continue=c1");
                let body = if second {
                    proto::test_secret_list(&["c"], None)
                } else {
                    proto::test_secret_list(&["a", "b"], Some("c1"))
                };
                let send = match cut {
                    Some(n) if second => &body[..n],
                    _ => &body[..],
                };
                let mut s = s;
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.kubernetes.protobuf\r\n\
                     Transfer-Encoding: chunked\r\n\r\n"
                );
                for c in send.chunks(97) {
                    let _ = write!(s, "{:x}\r\n", c.len());
                    let _ = s.write_all(c);
                    let _ = s.write_all(b"\r\n");
                    let _ = s.flush();
                }
                if cut.is_none() || !second {
                    let _ = s.write_all(b"0\r\n\r\n");
                }
                // Dropping the socket closes it: mid-body when cut.
            });
        }
    });
    addr
}

/// A client for a plain-HTTP stand-in at `addr` (the kube crate's client, as `connect` makes).
pub(crate) fn plain_cluster(addr: &str) -> Cluster {
    let config = kube::Config::new(addr.parse().unwrap());
    Cluster {
        client: kube::Client::try_from(config).unwrap(),
        first_connection: transport::FirstConnection::unknown(),
        target: Target {
            server: addr.to_string(),
            cluster_name: "t".into(),
            user: "t".into(),
            ca_certs: vec![],
            default_namespace: "default".into(),
        },
    }
}

#[tokio::test]
async fn a_streamed_protobuf_list_is_read_page_by_page_in_small_chunks() {
    let c = plain_cluster(&streaming_server(None));
    let mut names: Vec<String> = Vec::new();
    list_pages(
        &c,
        "kube-system",
        ListParams::default().limit(2),
        proto::secret,
        std::convert::identity,
        "listing",
        |p: Page<k8s_openapi::api::core::v1::Secret>| {
            if let Page::Items(items) = p {
                names.extend(items.into_iter().filter_map(|s| s.metadata.name))
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(names, ["a", "b", "c"]);
}

/// A body that stops inside the List (connection closed mid-stream) fails the whole list:
/// never a shorter list that looks complete (prune would then miss tokens).
#[tokio::test]
async fn a_list_cut_off_mid_stream_is_an_error_not_a_shorter_list() {
    let whole = proto::test_secret_list(&["c"], None).len();
    for cut in [5, whole / 2, whole - 5] {
        let c = plain_cluster(&streaming_server(Some(cut)));
        let mut got = 0;
        let e = list_pages(
            &c,
            "kube-system",
            ListParams::default().limit(2),
            proto::secret,
            std::convert::identity,
            "cannot list bootstrap tokens",
            |p: Page<k8s_openapi::api::core::v1::Secret>| {
                if let Page::Items(items) = p {
                    got += items.len();
                }
            },
        )
        .await
        .expect_err("a cut-off body must fail the list");
        let text = e.to_string();
        assert!(text.contains("cannot list bootstrap tokens"), "{text}");
        assert!(got <= 2, "cut at {cut}: {got} items");
    }
}

/// A 403 names what the apiserver refused and as whom, and does not guess another
/// permission (it once always said "secrets in kube-system").
#[test]
fn a_forbidden_answer_keeps_the_servers_words_and_guesses_nothing() {
    let target = Target {
        server: "https://127.0.0.1:6443".into(),
        cluster_name: "kubernetes".into(),
        user: "system:serviceaccount:kube-system:x".into(),
        ca_certs: Vec::new(),
        default_namespace: "default".into(),
    };
    let status = kube::core::Status::failure(
        "secrets \"s\" is forbidden: User \"x\" cannot get resource \"secrets\" in the namespace \"ci\"",
        "Forbidden",
    )
    .with_code(403);
    let text = describe_kube_error(&kube::Error::Api(status.boxed()), &target);
    assert!(text.contains("in the namespace \"ci\""), "{text}");
    assert!(
        text.contains("running as system:serviceaccount:kube-system:x"),
        "{text}"
    );
    assert!(!text.contains("kube-system, or"), "{text}");
    assert!(text.ends_with("ask a cluster admin for that permission, or use --as/--context with a privileged identity"), "{text}");
}

#[tokio::test]
async fn an_expired_continue_token_restarts_the_list_once_without_duplicates() {
    let (addr, seen) = gone_server();
    let c = plain_cluster(&addr);
    let mut names: Vec<String> = Vec::new();
    let mut restarts = 0;
    list_pages(
        &c,
        "kube-system",
        ListParams::default().limit(1),
        proto::secret,
        std::convert::identity,
        "listing",
        |p: Page<k8s_openapi::api::core::v1::Secret>| match p {
            Page::Items(items) => names.extend(items.into_iter().filter_map(|s| s.metadata.name)),
            Page::Restart => {
                restarts += 1;
                names.clear();
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(restarts, 1);
    assert_eq!(names, ["a", "b"], "no Secret twice, none lost");
    let asked = seen.lock().unwrap().clone();
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert!(
        asked[1].contains("continue=c1") && !asked[2].contains("continue"),
        "{asked:?}"
    );
}
