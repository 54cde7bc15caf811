//! End-to-end proofs of per-node tokens and their delivery through AWS instance tags, against
//! the real control plane, moto in server mode (EC2 + Auto Scaling) and amazon-ec2-metadata-mock
//! (IMDSv2), started by `scripts/e2e up --aws`. Checked with independent clients: kubectl for
//! the tokens, boto3 (from moto's venv) for the groups and tags, `kubectl auth whoami` for what
//! a kubeconfig authenticates as. The join counter is driven through the library function the
//! approver calls ([`kubectl_jointoken::binding::consume`]).
#![cfg(feature = "aws")]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::kubelet::Kubelet;
use common::{Harness, Out, harness, unique, wait_for};
use kubectl_jointoken::binding::{self, Consumed};
use kubectl_jointoken::cli::GlobalArgs;
use kubectl_jointoken::store::TokenStore;
use kubectl_jointoken::token::TokenId;
use serde_json::{Value, json};

/// The AWS peers of the harness.
struct Aws {
    bin: PathBuf,
}

fn aws() -> Aws {
    let bin = std::env::var("KJT_E2E_AWS_BIN").unwrap_or_else(|_| {
        panic!("KJT_E2E_AWS_BIN is not set: start the harness with `scripts/e2e up --aws`")
    });
    Aws { bin: bin.into() }
}

/// boto3 against moto: runs `script` (which prints one JSON value) with `args` as sys.argv[1:].
const PRELUDE: &str = r#"
import json, sys, boto3
ec2 = boto3.client("ec2")
asg = boto3.client("autoscaling")
def instances(name):
    g = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    ids = sorted(i["InstanceId"] for i in g["Instances"] if i["LifecycleState"] == "InService")
    out = {}
    if ids:
        for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
            for i in r["Instances"]:
                out[i["InstanceId"]] = {"dns": i.get("PrivateDnsName", ""),
                    "tags": {t["Key"]: t["Value"] for t in i.get("Tags", [])}}
    return out
"#;

impl Aws {
    fn py(&self, script: &str, args: &[&str]) -> Value {
        let out = Command::new(self.bin.join("python"))
            .arg("-c")
            .arg(format!("{PRELUDE}\n{script}"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "boto3 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "boto3 printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// An Auto Scaling group of `n` instances (launch template of moto's first image).
    fn group(&self, name: &str, n: u32) -> Value {
        self.py(
            r#"
name, n = sys.argv[1], int(sys.argv[2])
ami = ec2.describe_images()["Images"][0]["ImageId"]
ec2.create_launch_template(LaunchTemplateName=name,
    LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.micro"})
asg.create_auto_scaling_group(AutoScalingGroupName=name,
    LaunchTemplate={"LaunchTemplateName": name, "Version": "$Latest"},
    MinSize=0, MaxSize=20, DesiredCapacity=n, AvailabilityZones=["us-east-1a"])
print(json.dumps(instances(name)))
"#,
            &[name, &n.to_string()],
        )
    }

    fn instances(&self, name: &str) -> Value {
        self.py("print(json.dumps(instances(sys.argv[1])))", &[name])
    }
}

fn deliver(h: &Harness, group: &str, name: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "deliver", "aws", "--asg", group, "--name", name, "--once", "-o", "json",
    ];
    args.extend(extra);
    let out = h.ours(&args).ok();
    serde_json::from_str(&out.stdout).unwrap()
}

fn actions(report: &Value, action: &str) -> Vec<String> {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["action"] == action)
        .map(|i| i["instance"].as_str().unwrap().to_string())
        .collect()
}

/// The delivery's Secrets, via kubectl: instance → (id, node label, groups, resourceVersion).
fn secrets(h: &Harness, name: &str) -> Vec<Value> {
    let out = h
        .kubectl(&[
            "-n",
            "kube-system",
            "get",
            "secrets",
            "-l",
            &format!("jointoken.kubectl.io/deliver={name}"),
            "-o",
            "json",
        ])
        .ok();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    v["items"].as_array().unwrap().clone()
}

fn b64(v: &Value) -> String {
    use base64::Engine;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap(),
    )
    .unwrap()
}

const TAG: &str = "kubectl-jointoken:join";

#[test]
fn deliver_tags_each_instance_with_its_own_bound_token_and_is_idempotent() {
    let Some(h) = harness() else { return };
    let a = aws();
    let group = unique("asg-");
    let name = unique("d");
    let first = a.group(&group, 3);
    assert_eq!(first.as_object().unwrap().len(), 3);

    // One pass: every instance gets a distinct token bound to its private DNS name.
    let r = deliver(&h, &group, &name, &[]);
    assert_eq!(actions(&r, "created").len(), 3, "{r}");
    let now = a.instances(&group);
    let mut values = std::collections::BTreeSet::new();
    for (id, i) in now.as_object().unwrap() {
        let v = i["tags"][TAG]
            .as_str()
            .unwrap_or_else(|| panic!("{id} untagged: {i}"));
        assert!(v.starts_with("kjt1 ") && v.len() <= 256, "{v}");
        values.insert(v.to_string());
    }
    assert_eq!(values.len(), 3, "tokens must differ");
    let s = secrets(&h, &name);
    assert_eq!(s.len(), 3);
    for sec in &s {
        let labels = &sec["metadata"]["labels"];
        let inst = labels["jointoken.kubectl.io/instance"].as_str().unwrap();
        assert_eq!(
            labels["jointoken.kubectl.io/node"], now[inst]["dns"],
            "{sec}"
        );
        assert_eq!(
            b64(&sec["data"]["auth-extra-groups"]),
            "system:bootstrappers:jointoken:node"
        );
        assert_eq!(
            sec["metadata"]["annotations"]["jointoken.kubectl.io/max-joins"],
            "1"
        );
        // The tag names this very token.
        let tok = format!(
            "{}.{}",
            b64(&sec["data"]["token-id"]),
            b64(&sec["data"]["token-secret"])
        );
        assert!(now[inst]["tags"][TAG].as_str().unwrap().contains(&tok));
    }

    // A 4th instance: the next pass serves only it.
    a.py(
        "asg.set_desired_capacity(AutoScalingGroupName=sys.argv[1], DesiredCapacity=4); print(1)",
        &[&group],
    );
    let r = deliver(&h, &group, &name, &[]);
    let created = actions(&r, "created");
    assert_eq!(created.len(), 1, "{r}");
    assert!(!first.as_object().unwrap().contains_key(&created[0]));
    assert_eq!(actions(&r, "unchanged").len(), 3, "{r}");

    // An instance detached: its token is deleted.
    let gone = first.as_object().unwrap().keys().next().unwrap().clone();
    a.py(
        "asg.detach_instances(AutoScalingGroupName=sys.argv[1], InstanceIds=[sys.argv[2]], \
         ShouldDecrementDesiredCapacity=True); print(1)",
        &[&group, &gone],
    );
    let r = deliver(&h, &group, &name, &[]);
    assert_eq!(actions(&r, "deleted"), std::slice::from_ref(&gone), "{r}");
    let s = secrets(&h, &name);
    assert_eq!(s.len(), 3);
    assert!(
        s.iter()
            .all(|x| x["metadata"]["labels"]["jointoken.kubectl.io/instance"] != gone.as_str())
    );

    // Nothing to do: no write anywhere.
    let before_tags = a.instances(&group);
    let before: Vec<Value> = s
        .iter()
        .map(|x| x["metadata"]["resourceVersion"].clone())
        .collect();
    let r = deliver(&h, &group, &name, &[]);
    assert_eq!(r["writes"], 0, "{r}");
    assert_eq!(actions(&r, "unchanged").len(), 3, "{r}");
    assert_eq!(a.instances(&group), before_tags);
    let after: Vec<Value> = secrets(&h, &name)
        .iter()
        .map(|x| x["metadata"]["resourceVersion"].clone())
        .collect();
    assert_eq!(before, after);
    // Batching: one DescribeAutoScalingGroups and one DescribeInstances for the whole group.
    assert_eq!(r["calls"]["autoscaling"], 1, "{r}");
    assert_eq!(r["calls"]["ec2"], 1, "{r}");
}

/// amazon-ec2-metadata-mock answering as instance `id`; killed on drop.
struct Imds {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Imds {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn imds_as(a: &Aws, id: &str) -> Imds {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("imds.json");
    std::fs::write(
        &cfg,
        json!({"metadata": {"values": {"instance-id": id, "placement-region": "us-east-1"}}})
            .to_string(),
    )
    .unwrap();
    let port = common::free_port();
    let child = Command::new(a.bin.join("ec2-metadata-mock"))
        .args(["-n", "127.0.0.1", "-p", &port.to_string(), "--imdsv2", "-c"])
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    wait_for(30, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    })
    .expect("imds mock");
    Imds {
        child,
        url,
        _dir: dir,
    }
}

#[test]
fn fetch_from_the_instance_tag_writes_a_bootstrap_kubeconfig_and_removes_the_tag() {
    let Some(h) = harness() else { return };
    let a = aws();
    let group = unique("asg-");
    let name = unique("f");
    let inst = a.group(&group, 1);
    let id = inst.as_object().unwrap().keys().next().unwrap().clone();
    deliver(&h, &group, &name, &["--node-name", "instance-id"]);
    let token_id = secrets(&h, &name)[0]["data"]["token-id"].clone();
    let token_id = b64(&token_id);

    let imds = imds_as(&a, &id);
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("bootstrap-kubelet.conf");
    let kcs = kc.display().to_string();
    let env = [("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.as_str())];
    let out = h.run(
        &common::our_bin("kubectl-jointoken"),
        &["fetch", "--from", "aws-tag", "--kubeconfig-out", &kcs],
        &env,
    );
    let out = out.ok();
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&kc).unwrap().mode() & 0o777, 0o600);
    let who = h
        .kubectl(&["--kubeconfig", &kcs, "auth", "whoami", "-o", "json"])
        .ok();
    let who: Value = serde_json::from_str(&who.stdout).unwrap();
    assert_eq!(
        who["status"]["userInfo"]["username"],
        format!("system:bootstrap:{token_id}")
    );
    let groups = who["status"]["userInfo"]["groups"].to_string();
    assert!(
        groups.contains("system:bootstrappers:jointoken:node"),
        "{groups}"
    );
    // The tag is gone, and a second fetch says why there is nothing.
    assert!(a.instances(&group)[&id]["tags"].get(TAG).is_none());
    let again = h.run(
        &common::our_bin("kubectl-jointoken"),
        &[
            "fetch",
            "--from",
            "aws-tag",
            "--kubeconfig-out",
            &format!("{kcs}.2"),
        ],
        &env,
    );
    assert_eq!(again.code, 1, "{again:?}");
    assert!(
        again.stderr.contains("has no tag kubectl-jointoken:join"),
        "{}",
        again.stderr
    );
    // The next pass sees a fetched token waiting for its join: no new token, no new tag.
    let r = deliver(&h, &group, &name, &["--node-name", "instance-id"]);
    assert_eq!(r["writes"], 0, "{r}");
    assert!(r.to_string().contains("waiting for the join"), "{r}");
}

#[test]
fn a_hostile_tag_is_refused_and_nothing_is_written() {
    let Some(h) = harness() else { return };
    let a = aws();
    let group = unique("asg-");
    let inst = a.group(&group, 1);
    let id = inst.as_object().unwrap().keys().next().unwrap().clone();
    let evil = "kjt1 abcdef.0123456789abcdef 10.0.0.1:6443;curl|sh 0 aaaa";
    a.py(
        "ec2.create_tags(Resources=[sys.argv[1]], Tags=[{'Key': sys.argv[2], 'Value': sys.argv[3]}]); print(1)",
        &[&id, TAG, evil],
    );
    let imds = imds_as(&a, &id);
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("k.conf");
    let out: Out = h.run(
        &common::our_bin("kubectl-jointoken"),
        &[
            "fetch",
            "--from",
            "aws-tag",
            "--kubeconfig-out",
            &kc.display().to_string(),
        ],
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.as_str())],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("is not a join record"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("0123456789abcdef"), "{}", out.stderr);
    assert!(!kc.exists());
}

fn store(h: &Harness) -> (tokio::runtime::Runtime, TokenStore) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let g = GlobalArgs {
        kubeconfig: Some(h.kubeconfig.clone()),
        ..Default::default()
    };
    let c = rt
        .block_on(kubectl_jointoken::cluster::connect(&g))
        .unwrap();
    (rt, TokenStore::new(&c))
}

fn create_for_node(h: &Harness, node: &str, max: &str) -> (String, String) {
    let out = h
        .ours(&[
            "create",
            "--for-node",
            node,
            "--max-joins",
            max,
            "-o",
            "json",
        ])
        .ok();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let item = &v["items"][0];
    assert_eq!(item["node"], node);
    (
        item["id"].as_str().unwrap().to_string(),
        item["token"].as_str().unwrap().to_string(),
    )
}

#[test]
fn max_joins_are_counted_and_the_last_join_deletes_the_token() {
    let Some(h) = harness() else { return };
    let node = unique("node-");
    let (id, token) = create_for_node(&h, &node, "2");
    let labels = h
        .kubectl(&[
            "-n",
            "kube-system",
            "get",
            "secret",
            &format!("bootstrap-token-{id}"),
            "-o",
            "jsonpath={.metadata.labels.jointoken\\.kubectl\\.io/node}",
        ])
        .ok();
    assert_eq!(labels.stdout, node);
    let (rt, store) = store(&h);
    let tid = TokenId::parse(&id).unwrap();
    assert_eq!(
        rt.block_on(binding::consume(&store, &tid)).unwrap(),
        Consumed::Counted { joins: 1, max: 2 }
    );
    // list shows the binding and the count.
    let wide = h.ours(&["list", "-o", "wide"]).ok();
    let line = wide
        .stdout
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap()
        .to_string();
    assert!(line.contains(&node) && line.contains("1/2"), "{line}");
    assert_eq!(h.whoami_with_token(&token).code, 0);
    assert_eq!(
        rt.block_on(binding::consume(&store, &tid)).unwrap(),
        Consumed::Deleted { joins: 2 }
    );
    // Deleted: it authenticates no more (once the apiserver's Secret informer has seen the
    // delete, which takes a moment).
    let refused = wait_for(15, || {
        let who = h.whoami_with_token(&token);
        (who.code != 0).then_some(who)
    })
    .expect("the deleted token still authenticates after 15s");
    assert!(refused.stderr.contains("Unauthorized"), "{refused:?}");
    assert!(
        h.kubectl(&[
            "-n",
            "kube-system",
            "get",
            "secret",
            &format!("bootstrap-token-{id}")
        ])
        .code
            != 0
    );
    assert_eq!(
        rt.block_on(binding::consume(&store, &tid)).unwrap(),
        Consumed::Gone
    );
}

#[test]
fn concurrent_approvers_count_every_join_once() {
    let Some(h) = harness() else { return };
    let (id, _) = create_for_node(&h, &unique("node-"), "3");
    let (rt, store) = store(&h);
    let tid = TokenId::parse(&id).unwrap();
    let results: Vec<Consumed> = rt.block_on(async {
        let fs = (0..3).map(|_| binding::consume(&store, &tid));
        futures::future::join_all(fs)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect()
    });
    let mut counted: Vec<u32> = results
        .iter()
        .map(|r| match r {
            Consumed::Counted { joins, .. } | Consumed::Deleted { joins } => *joins,
            other => panic!("{other:?}"),
        })
        .collect();
    counted.sort();
    assert_eq!(counted, [1, 2, 3], "{results:?}");
    assert_eq!(
        results
            .iter()
            .filter(|r| matches!(r, Consumed::Deleted { .. }))
            .count(),
        1
    );
}

#[test]
fn prune_consumed_removes_what_a_crashed_approver_left() {
    let Some(h) = harness() else { return };
    let (used, _) = create_for_node(&h, &unique("node-"), "1");
    let (fresh, _) = create_for_node(&h, &unique("node-"), "1");
    // An approver that counted the last join and died before deleting.
    h.kubectl(&[
        "-n",
        "kube-system",
        "annotate",
        "--overwrite",
        "secret",
        &format!("bootstrap-token-{used}"),
        "jointoken.kubectl.io/joins=1",
    ])
    .ok();
    let out = h.ours(&["prune", "--consumed", "-o", "json"]).ok();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let deleted: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["action"] == "deleted")
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert!(
        deleted.contains(&format!("bootstrap-token-{used}").as_str()),
        "{v}"
    );
    assert!(
        !deleted.contains(&format!("bootstrap-token-{fresh}").as_str()),
        "{v}"
    );
    assert_eq!(
        h.kubectl(&[
            "-n",
            "kube-system",
            "get",
            "secret",
            &format!("bootstrap-token-{fresh}")
        ])
        .code,
        0
    );
}

#[test]
fn two_watching_replicas_deliver_once_through_the_lease() {
    let Some(h) = harness() else { return };
    let a = aws();
    let group = unique("asg-");
    let name = unique("w");
    let lease = unique("kjt-deliver-");
    a.group(&group, 2);
    let spawn = || {
        Command::new(common::our_bin("kubectl-jointoken"))
            .args([
                "deliver",
                "aws",
                "--asg",
                &group,
                "--name",
                &name,
                "--watch",
                "--interval",
                "5s",
                "--lease-name",
                &lease,
            ])
            .env("KUBECONFIG", &h.kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let replicas = [spawn(), spawn()];
    // Both run several intervals; every instance is tagged exactly once.
    let tagged = wait_for(60, || {
        let i = a.instances(&group);
        i.as_object()
            .unwrap()
            .values()
            .all(|x| x["tags"].get(TAG).is_some())
            .then_some(i)
    })
    .expect("the watching replicas tagged every instance");
    std::thread::sleep(std::time::Duration::from_secs(12));
    assert_eq!(a.instances(&group), tagged, "a later pass rewrote a tag");
    assert_eq!(secrets(&h, &name).len(), 2, "one token per instance");
    let mut notes = String::new();
    for r in replicas {
        Command::new("kill")
            .args(["-TERM", &r.id().to_string()])
            .status()
            .unwrap();
        let out = r.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        notes.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    assert!(notes.contains("is held by"), "{notes}");
    assert!(notes.contains("pass done"), "{notes}");
    assert!(common::tokens_in(&notes).is_empty(), "{notes}");
    // Released on SIGTERM: the Lease has no holder.
    let holder = h
        .kubectl(&[
            "-n",
            "kube-system",
            "get",
            "lease",
            &lease,
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ])
        .ok();
    assert_eq!(holder.stdout, "");
}

/// The client CSRs made as bootstrap token `id`, names only.
fn csrs_of(h: &Harness, id: &str) -> Vec<String> {
    let all: Value =
        serde_json::from_str(&h.kubectl(&["get", "csr", "-o", "json"]).ok().stdout).unwrap();
    let user = format!("system:bootstrap:{id}");
    all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["spec"]["username"] == user.as_str())
        .map(|c| c["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// Waits for the kubelet's one CSR made as `id` that is not in `known`.
fn kubelet_csr(h: &Harness, id: &str, known: &[String], k: &Kubelet) -> String {
    wait_for(60, || {
        csrs_of(h, id).into_iter().find(|c| !known.contains(c))
    })
    .unwrap_or_else(|| {
        panic!(
            "the kubelet made no CSR as system:bootstrap:{id} in 60s; its log:\n{}",
            k.proc.tail()
        )
    })
}

/// One CSR's approve verdict, as `approve NAME -o json` reports it.
fn approve_one(h: &Harness, csr: &str) -> (i32, Value) {
    let out = h.ours(&["approve", csr, "-o", "json"]);
    let v: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("approve printed no JSON ({e}): {out:?}"));
    common::scan_for_secrets(&common::our_bin("kubectl-jointoken"), &["approve"], &out);
    (out.code, v["items"][0].clone())
}

/// The whole path of issue #14 with real peers: `deliver` tags an instance of a moto Auto
/// Scaling group with a token bound to its node name, `fetch` on "the instance" (the metadata
/// mock answering as it) turns the tag into a bootstrap kubeconfig, and real kubelets use it.
/// A kubelet claiming another node name is refused at approval; the instance's own kubelet is
/// approved, issued by the real csrsigning controller, and its token deleted in the same step,
/// after which the same kubeconfig cannot authenticate at all (kubectl and a third kubelet).
#[test]
fn a_real_kubelet_joins_with_a_delivered_token_that_is_then_used_up() {
    let Some(h) = harness() else { return };
    let a = aws();
    // Bound tokens' group may create CSRs (what `setup --no-auto-approve` grants) but not have
    // them approved by the controller-manager: only `approve` approves them.
    let crb = unique("kjt-e2e-delivered-");
    h.kubectl(&[
        "create",
        "clusterrolebinding",
        &crb,
        "--clusterrole=system:node-bootstrapper",
        "--group=system:bootstrappers:jointoken:node",
    ])
    .ok();
    struct Unbind<'a>(&'a Harness, String);
    impl Drop for Unbind<'_> {
        fn drop(&mut self) {
            self.0.kubectl(&[
                "delete",
                "clusterrolebinding",
                &self.1,
                "--ignore-not-found",
            ]);
        }
    }
    let _unbind = Unbind(&h, crb.clone());

    let group = unique("asg-");
    let name = unique("k");
    let inst = a.group(&group, 1);
    let instance = inst.as_object().unwrap().keys().next().unwrap().clone();
    deliver(&h, &group, &name, &["--node-name", "instance-id"]);
    let imds = imds_as(&a, &instance);
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let boot = dir.join("bootstrap-kubelet.conf");
    h.run(
        &common::our_bin("kubectl-jointoken"),
        &[
            "fetch",
            "--from",
            "aws-tag",
            "--kubeconfig-out",
            boot.to_str().unwrap(),
        ],
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.as_str())],
    )
    .ok();
    let id = b64(&secrets(&h, &name)[0]["data"]["token-id"]);
    let whoami =
        |kc: &std::path::Path| h.kubectl(&["--kubeconfig", kc.to_str().unwrap(), "auth", "whoami"]);
    assert_eq!(
        whoami(&boot).code,
        0,
        "the fetched kubeconfig authenticates"
    );

    // A kubelet on another machine that got hold of the same file, under another name.
    let other = unique("kjt-e2e-impostor-");
    let impostor = Kubelet::start(&h, &dir.join("impostor"), &boot, &other);
    let wrong = kubelet_csr(&h, &id, &[], &impostor);
    let (code, item) = approve_one(&h, &wrong);
    assert_eq!(code, 1, "{item}");
    assert_eq!(item["action"], "pending", "{item}");
    let why = item["reason"].as_str().unwrap();
    assert!(
        why.contains(&instance),
        "the refusal names the bound node: {why}"
    );
    assert!(why.contains(&other), "and the name asked for: {why}");

    // The instance's own kubelet: approved, the token used up and deleted in the same step.
    let own = Kubelet::start(&h, &dir.join("own"), &boot, &instance);
    let right = kubelet_csr(&h, &id, std::slice::from_ref(&wrong), &own);
    let (code, item) = approve_one(&h, &right);
    assert_eq!(code, 0, "{item}");
    assert_eq!(item["action"], "approved", "{item}");
    let why = item["reason"].as_str().unwrap();
    assert!(why.contains("used up") && why.contains("deleted"), "{why}");
    let secret = format!("bootstrap-token-{id}");
    assert_ne!(
        h.kubectl(&["-n", "kube-system", "get", "secret", &secret])
            .code,
        0,
        "the single-use token still exists after its join"
    );
    // The real signer issues it and the kubelet writes its kubeconfig.
    wait_for(90, || own.has_certificate().then_some(())).unwrap_or_else(|| {
        panic!(
            "the instance's kubelet got no certificate:\n{}",
            own.proc.tail()
        )
    });
    let subject = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in"])
        .arg(&own.cert)
        .output()
        .unwrap();
    let subject = String::from_utf8_lossy(&subject.stdout);
    assert!(
        subject.contains(&format!("CN = system:node:{instance}")),
        "{subject}"
    );
    // The impostor's CSR was never approved.
    let conditions = h
        .kubectl(&["get", "csr", &wrong, "-o", "jsonpath={.status.conditions}"])
        .ok();
    assert_eq!(conditions.stdout, "", "the impostor's CSR changed state");
    assert!(!impostor.has_certificate());

    // Consumed: the same kubeconfig authenticates no more, for kubectl or for a new kubelet.
    let refused = wait_for(30, || {
        let who = whoami(&boot);
        (who.code != 0).then_some(who)
    })
    .expect("the consumed token still authenticates after 30s");
    assert!(refused.stderr.contains("Unauthorized"), "{refused:?}");
    let late = Kubelet::start(&h, &dir.join("late"), &boot, &unique("kjt-e2e-late-"));
    // client-go's words for a 401 ("Unauthorized" in other versions).
    let said = wait_for(60, || {
        let log = late.proc.text();
        (log.contains("asked for the client to provide credentials")
            || log.contains("Unauthorized"))
        .then_some(())
    });
    assert!(
        said.is_some(),
        "a kubelet with the consumed token was not refused:\n{}",
        late.proc.tail()
    );
    assert_eq!(
        csrs_of(&h, &id).len(),
        2,
        "a CSR was made with the consumed token"
    );
    h.kubectl(&["delete", "csr", &wrong, &right]).ok();
}

/// `--dry-run` (client and server) plans the same pass and changes nothing: no Secret, no tag,
/// and a planned delete leaves the token and the other tags in place.
#[test]
fn a_dry_run_pass_reports_the_plan_and_writes_nothing() {
    let Some(h) = harness() else { return };
    let a = aws();
    let group = unique("asg-");
    let name = unique("n");
    let first = a.group(&group, 2);
    for mode in ["--dry-run=client", "--dry-run=server"] {
        let r = deliver(&h, &group, &name, &[mode]);
        assert_eq!(actions(&r, "would-create").len(), 2, "{mode}: {r}");
        assert!(secrets(&h, &name).is_empty(), "{mode} created a Secret");
        assert_eq!(a.instances(&group), first, "{mode} wrote a tag");
    }
    deliver(&h, &group, &name, &[]);
    let tagged = a.instances(&group);
    let gone = first.as_object().unwrap().keys().next().unwrap().clone();
    a.py(
        "asg.detach_instances(AutoScalingGroupName=sys.argv[1], InstanceIds=[sys.argv[2]], \
         ShouldDecrementDesiredCapacity=True); print(1)",
        &[&group, &gone],
    );
    let before: Vec<Value> = secrets(&h, &name)
        .iter()
        .map(|x| x["metadata"]["resourceVersion"].clone())
        .collect();
    for mode in ["--dry-run=client", "--dry-run=server"] {
        let r = deliver(&h, &group, &name, &[mode]);
        assert_eq!(
            actions(&r, "would-delete"),
            std::slice::from_ref(&gone),
            "{r}"
        );
        let after: Vec<Value> = secrets(&h, &name)
            .iter()
            .map(|x| x["metadata"]["resourceVersion"].clone())
            .collect();
        assert_eq!(before, after, "{mode} changed a Secret");
    }
    let kept = a.instances(&group);
    for (id, i) in kept.as_object().unwrap() {
        assert_eq!(i["tags"], tagged[id]["tags"], "{id}");
    }
}

/// `deliver install --in-cluster` renders objects the apiserver accepts, whose service account
/// can do exactly what a pass needs (proved by running a pass as it) and nothing beyond.
#[test]
fn the_in_cluster_deliverer_is_valid_and_least_privilege() {
    let Some(h) = harness() else { return };
    let a = aws();
    let group = unique("asg-");
    let name = unique("i");
    a.group(&group, 1);
    let rendered = h
        .ours(&[
            "deliver",
            "install",
            "--in-cluster",
            "--image",
            "registry.example/kubectl-jointoken:0.1.0",
            "--",
            "--asg",
            &group,
            "--name",
            &name,
            "--node-name",
            "instance-id",
        ])
        .ok()
        .stdout;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("deliverer.yaml");
    std::fs::write(&f, &rendered).unwrap();
    let f = f.to_str().unwrap();
    let dry = h.kubectl(&["apply", "--dry-run=server", "-f", f]).ok();
    assert_eq!(dry.stdout.lines().count(), 6, "{}", dry.stdout);
    h.kubectl(&["apply", "-f", f]).ok();
    struct Remove<'a>(&'a Harness, String);
    impl Drop for Remove<'_> {
        fn drop(&mut self) {
            self.0
                .kubectl(&["delete", "-f", &self.1, "--ignore-not-found"]);
        }
    }
    let _remove = Remove(&h, f.to_string());
    let d: Value = serde_json::from_str(
        &h.kubectl(&[
            "-n",
            "kube-system",
            "get",
            "deployment",
            "kubectl-jointoken-deliver",
            "-o",
            "json",
        ])
        .ok()
        .stdout,
    )
    .unwrap();
    assert_eq!(d["spec"]["replicas"], 2);
    let argv = d["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
    assert!(argv.contains("--watch") && argv.contains(&group), "{argv}");
    let sa = "system:serviceaccount:kube-system:kubectl-jointoken-deliver";
    let can = |args: &[&str]| {
        let mut v = vec!["auth", "can-i", "--as", sa];
        v.extend_from_slice(args);
        h.kubectl(&v).stdout.trim().to_string()
    };
    let yes: &[&[&str]] = &[
        &["-n", "kube-system", "create", "secrets"],
        &["-n", "kube-system", "list", "secrets"],
        &["-n", "kube-system", "delete", "secrets"],
        &["-n", "kube-system", "create", "leases"],
        &[
            "-n",
            "kube-system",
            "update",
            "leases/kubectl-jointoken-deliver",
        ],
        &["list", "nodes"],
    ];
    let no: &[&[&str]] = &[
        &["-n", "default", "list", "secrets"],
        &["-n", "kube-system", "update", "secrets"],
        &[
            "-n",
            "kube-system",
            "update",
            "leases/kube-controller-manager",
        ],
        &["delete", "nodes"],
        &["create", "certificatesigningrequests"],
        &["-n", "kube-system", "create", "pods"],
    ];
    for x in yes {
        assert_eq!(can(x), "yes", "{x:?}");
    }
    for x in no {
        assert_eq!(can(x), "no", "{x:?}");
    }
    // And it is enough: a pass as the service account delivers.
    let out = h
        .ours(&[
            "deliver",
            "aws",
            "--asg",
            &group,
            "--name",
            &name,
            "--node-name",
            "instance-id",
            "--once",
            "-o",
            "json",
            "--as",
            sa,
        ])
        .ok();
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(actions(&r, "created").len(), 1, "{r}");
    let inst = a.instances(&group);
    assert!(
        inst.as_object()
            .unwrap()
            .values()
            .all(|i| i["tags"].get(TAG).is_some()),
        "{inst}"
    );
}
