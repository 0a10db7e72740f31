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

/// `{ __type(name: "Query") { ofType { … name } } }` nested `depth` levels.
fn nested(depth: usize) -> String {
    // __type is level 1 and `name` the last level.
    let inner = depth - 2;
    format!(
        "{{ __type(name: \"Query\") {{ {}name{} }} }}",
        "ofType { ".repeat(inner),
        " }".repeat(inner)
    )
}

#[tokio::test]
async fn depth() {
    let app = TestApp::spawn().await;
    let max = Limits::default().max_depth;
    assert_ok(&run(&app, &nested(max)).await, "at the depth limit");
    assert_refused(
        &run(&app, &nested(max + 1)).await,
        "past the depth limit",
        "nested too deep",
    );
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
async fn complexity() {
    let app = TestApp::spawn().await;
    let max = Limits::default().max_complexity;
    // `viewer { role }` costs two (each field one); `__typename` costs nothing.
    assert_eq!(max % 2, 0);
    let at = format!("{{ {} }}", "viewer { role } ".repeat(max / 2));
    let past = format!(
        "{{ {} viewer {{ role role }} }}",
        "viewer { role } ".repeat(max / 2 - 1)
    );
    assert_ok(&run(&app, &at).await, "at the complexity limit");
    assert_refused(
        &run(&app, &past).await,
        "past the complexity limit",
        "complex",
    );
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
