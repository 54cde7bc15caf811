//! Tests of [`super`]: kubectl's JSONPath reference examples, filters, custom columns.
use super::*;
use serde_json::json;

/// The document of kubectl's JSONPath reference page
/// (https://kubernetes.io/docs/reference/kubectl/jsonpath/).
fn doc() -> Value {
    json!({
      "kind": "List",
      "items":[
        {
          "kind":"None",
          "metadata":{
            "name":"127.0.0.1",
            "labels":{"kubernetes.io/hostname":"127.0.0.1"}
          },
          "status":{
            "capacity":{"cpu":"4"},
            "addresses":[{"type": "LegacyHostIP", "address":"127.0.0.1"}]
          }
        },
        {
          "kind":"None",
          "metadata":{"name":"127.0.0.2"},
          "status":{
            "capacity":{"cpu":"8"},
            "addresses":[
              {"type": "LegacyHostIP", "address":"127.0.0.2"},
              {"type": "another", "address":"127.0.0.3"}
            ]
          }
        }
      ],
      "users":[
        {"name": "myself", "user": {}},
        {"name": "e2e", "user": {"username": "admin", "password": "secret"}}
      ]
    })
}

fn r(t: &str) -> String {
    Template::parse(t).unwrap().render(&doc()).unwrap()
}

#[test]
fn kubectl_reference_examples() {
    assert_eq!(r("{.kind}"), "List");
    assert_eq!(r("{['kind']}"), "List");
    assert_eq!(r("{..name}"), "127.0.0.1 127.0.0.2 myself e2e");
    assert_eq!(r("{.items[*].metadata.name}"), "127.0.0.1 127.0.0.2");
    assert_eq!(r("{.users[0].name}"), "myself");
    assert_eq!(r("{.items[-1:].metadata.name}"), "127.0.0.2");
    assert_eq!(r("{.items[0:1].metadata.name}"), "127.0.0.1");
    assert_eq!(r("{.users[?(@.name==\"e2e\")].user.password}"), "secret");
    assert_eq!(r("{.items[0].metadata.name}{\"\\n\"}"), "127.0.0.1\n");
    assert_eq!(
        r("{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}"),
        "[127.0.0.1, {\"cpu\":\"4\"}] [127.0.0.2, {\"cpu\":\"8\"}] "
    );
    assert_eq!(
        r("{.items[*].status.addresses[?(@.type==\"another\")].address}"),
        "127.0.0.3"
    );
    assert_eq!(r("{$.kind}"), "List");
    assert_eq!(r("{.users[*].name}"), "myself e2e");
    assert_eq!(
        r("{.items[0].metadata.labels.kubernetes\\.io/hostname}"),
        "127.0.0.1"
    );
}

#[test]
fn filters_compare_numbers_and_test_existence() {
    let d = json!({"items":[{"n":1,"x":true},{"n":5},{"n":10,"x":false}]});
    let t = |s: &str| Template::parse(s).unwrap().render(&d).unwrap();
    assert_eq!(t("{.items[?(@.n > 2)].n}"), "5 10");
    assert_eq!(t("{.items[?(@.n <= 5)].n}"), "1 5");
    assert_eq!(t("{.items[?(@.x)].n}"), "1 10");
    assert_eq!(t("{.items[?(@.n != 5)].n}"), "1 10");
    assert_eq!(t("{.items[0,2].n}"), "1 10");
}

#[test]
fn templates_without_braces_and_errors() {
    assert_eq!(r(".users[1].name"), "e2e");
    for bad in [
        "{.items[",
        "{range .items[*]}",
        "{end}",
        "{.a[::2]}",
        "{.items[x]}",
    ] {
        assert!(Template::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn custom_columns_over_a_list() {
    let (h, rows) = custom_columns(
        "NAME:.metadata.name,CPU:.status.capacity.cpu,X:.nope",
        &doc(),
    )
    .unwrap();
    assert_eq!(h, ["NAME", "CPU", "X"]);
    assert_eq!(
        rows,
        vec![
            vec!["127.0.0.1", "4", "<none>"],
            vec!["127.0.0.2", "8", "<none>"]
        ]
    );
    assert!(custom_columns("NAME", &doc()).is_err());
}

proptest::proptest! {
    #[test]
    fn any_template_parses_or_errs_without_panic(s in "\\PC{0,40}") {
        if let Ok(t) = Template::parse(&s) {
            let _ = t.render(&doc());
        }
    }
}
