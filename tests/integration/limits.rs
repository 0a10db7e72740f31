//! Document limits: at each limit the request runs; one past it is refused with
//! BAD_USER_INPUT and a message naming the limit, never a 5xx.

use serde_json::json;
use tenantgate::config::Limits;

use crate::support::{Answer, TestApp};

async fn run(app: &TestApp, query: &str) -> Answer {
    app.gql(query, json!({}), None).await
}

fn assert_ok(a: &Answer, what: &str) {
    assert_eq!(a.status, 200, "{what}: {:?}", a.body);
    assert!(a.body.get("errors").is_none(), "{what}: {:?}", a.body);
}

fn assert_refused(a: &Answer, what: &str, needle: &str) {
    assert_eq!(a.status, 400, "{what}: {:?}", a.body);
    assert_eq!(a.code(), "BAD_USER_INPUT", "{what}");
    let msg = a.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(msg.contains(needle), "{what}: {msg}");
}

/// A query nested exactly `Limits::default().max_depth` (10) levels:
/// viewer, memberships, tenant, apiKeys, edges, node, usage, groups, apiKey,
/// name.
const TEN_DEEP: &str = "{ viewer { memberships { tenant { apiKeys { edges { node { \
    usage(metric: \"api_calls\", from: \"2026-01-01T00:00:00Z\", to: \"2026-01-02T00:00:00Z\", \
    granularity: DAY) { groups { apiKey { name } } } } } } } } } }";

/// `{ a { b { … } } }` nested `depth` levels (refused before validation, so
/// the names need not exist).
fn nested(depth: usize) -> String {
    format!(
        "{{ {}x{} }}",
        "a { ".repeat(depth - 1),
        " }".repeat(depth - 1)
    )
}

#[tokio::test]
async fn depth() {
    let app = TestApp::spawn().await;
    let (token, _, _) = app.sign_up("deep@example.com", "Deep").await;
    assert_eq!(Limits::default().max_depth, 10);
    // At the limit the document runs (the tenant reached through
    // `memberships` then refuses its keys: that is the resolver, not the limit).
    let at = app.gql(TEN_DEEP, json!({}), Some(&token)).await;
    assert_eq!(at.status, 200, "{:?}", at.body);
    assert!(
        at.body["data"]["viewer"]["memberships"].is_array(),
        "{:?}",
        at.body
    );
    assert_ne!(at.code(), "BAD_USER_INPUT", "{:?}", at.body);
    assert_refused(
        &run(&app, &nested(Limits::default().max_depth + 1)).await,
        "past the depth limit",
        "nested too deep",
    );
    // Introspection is judged by its own rules (tests/integration/introspection.rs).
}

#[tokio::test]
async fn aliases() {
    let app = TestApp::spawn().await;
    let max = Limits::default().max_aliases;
    let doc = |n: usize| {
        format!(
            "{{ {} }}",
            (0..n)
                .map(|i| format!("a{i}: __typename"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    assert_ok(&run(&app, &doc(max)).await, "at the alias limit");
    assert_refused(
        &run(&app, &doc(max + 1)).await,
        "past the alias limit",
        "aliases",
    );
}

#[tokio::test]
async fn directives() {
    let app = TestApp::spawn().await;
    let max = Limits::default().max_directives;
    let doc = |n: usize| format!("{{ {} }}", "__typename @include(if: true) ".repeat(n));
    assert_ok(&run(&app, &doc(max)).await, "at the directive limit");
    assert_refused(
        &run(&app, &doc(max + 1)).await,
        "past the directive limit",
        "directives",
    );
}

#[tokio::test]
async fn tokens() {
    let app = TestApp::spawn().await;
    let max = Limits::default().max_tokens;
    // `{` + n names + `}`; `__typename` adds no complexity.
    let doc = |tokens: usize| format!("{{ {} }}", "__typename ".repeat(tokens - 2));
    let at = run(&app, &doc(max)).await;
    assert_ne!(
        at.code(),
        "BAD_USER_INPUT",
        "at the token limit: {:?}",
        at.body
    );
    assert_refused(
        &run(&app, &doc(max + 1)).await,
        "past the token limit",
        "tokens",
    );
}

#[tokio::test]
async fn complexity_counts_every_row_a_list_may_return() {
    let app = TestApp::spawn().await;
    let (token, _, _) = app.sign_up("cost@example.com", "Cost").await;
    let max = Limits::default().max_complexity;
    assert_eq!(max, 5000, "the arithmetic below assumes the default");
    // `tenant { members(first: n) { nodes { role user { id email } } } }`:
    // tenant 1 + members (1 + n × (nodes 1 + role 1 + user 3)) = 2 + 5n.
    let doc = |pages: &[i32]| {
        let fields: Vec<String> = pages
            .iter()
            .enumerate()
            .map(|(i, n)| {
                format!("t{i}: tenant {{ members(first: {n}) {{ nodes {{ role user {{ id email }} }} }} }}")
            })
            .collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let mut at = vec![100; 9];
    at.push(96); // 9 × 502 + 482 = 5000
    let a = app.gql(&doc(&at), json!({}), Some(&token)).await;
    assert_ok(&a, "at the cost limit");
    let mut past = vec![100; 9];
    past.push(97);
    assert_refused(
        &app.gql(&doc(&past), json!({}), Some(&token)).await,
        "past the cost limit",
        "complex",
    );
    // Without `first`, a list costs its default page (20 rows): 2 + 5 × 20.
    let default_page = format!(
        "{{ {} }}",
        (0..15)
            .map(|i| format!(
                "t{i}: tenant {{ members {{ nodes {{ role user {{ id email }} }} }} }}"
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert_ok(
        &app.gql(&default_page, json!({}), Some(&token)).await,
        "15 default pages cost 1530",
    );
    // The page size can come from a variable.
    // viewer 1 + memberships (1 + 20 × (tenant 1 + members (1 + n × 5))).
    let by_variable = "query($n: Int) { viewer { memberships { tenant { members(first: $n) { nodes { role user { id email } } } } } } }";
    let a = app.gql(by_variable, json!({ "n": 5 }), Some(&token)).await;
    // Within the cost limit: it runs (membership tenants list no members).
    assert_eq!(
        a.code(),
        "FORBIDDEN",
        "20 memberships of 5 rows: {:?}",
        a.body
    );
    let a = app
        .gql(by_variable, json!({ "n": 100 }), Some(&token))
        .await;
    assert_refused(&a, "nested pages from a variable", "complex");
}

#[tokio::test]
async fn huge_documents_cost_no_more_than_the_token_cap() {
    let app = TestApp::spawn().await;
    // 1.5 MB of fields: refused by the token count before parsing.
    let doc = format!("{{ {} }}", "__typename ".repeat(150_000));
    let started = std::time::Instant::now();
    assert_refused(&run(&app, &doc).await, "huge document", "tokens");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
