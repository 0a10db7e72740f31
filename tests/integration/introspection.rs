//! Introspection is judged by its own rules: GraphiQL's real introspection
//! query (graphql-js's `getIntrospectionQuery()`, in `fixtures/`) runs
//! wherever the environment allows introspection, whatever the depth limit
//! meant for data; its own nesting (`ofType`, list fields) is bounded with a
//! clear refusal; production still hides it from anonymous callers.

use serde_json::{Value, json};
use tenantgate::config::{Environment, Limits};
use tenantgate::db::PoolOptions;
use tenantgate::graphql::document::{MAX_INTROSPECTION_LISTS, MAX_OF_TYPE};

use crate::support::{Answer, TestApp};

const INTROSPECTION: &str = include_str!("fixtures/introspection.graphql");
const INTROSPECTION_FULL: &str = include_str!("fixtures/introspection-full.graphql");

fn assert_schema(a: &Answer, what: &str) {
    assert_eq!(a.status, 200, "{what}: {:?}", a.body);
    assert!(a.body.get("errors").is_none(), "{what}: {:?}", a.body);
    let types = a.body["data"]["__schema"]["types"].as_array().unwrap();
    let query = types
        .iter()
        .find(|t| t["name"] == "Query")
        .unwrap_or_else(|| panic!("{what}: no Query type"));
    let fields: Vec<&str> = query["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(fields.contains(&"viewer"), "{what}: {fields:?}");
}

fn assert_refused(a: &Answer, needle: &str) {
    assert_eq!(a.status, 400, "{:?}", a.body);
    assert_eq!(a.code(), "BAD_USER_INPUT");
    let msg = a.body["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains(needle), "{msg}");
}

/// `{ __type(name: "Query") { ofType { … name } } }` with `n` `ofType`s.
fn of_type_chain(n: usize) -> String {
    format!(
        "{{ __type(name: \"Query\") {{ {}name{} }} }}",
        "ofType { ".repeat(n),
        " }".repeat(n)
    )
}

#[tokio::test]
async fn graphiql_introspection_runs_in_development() {
    let app = TestApp::spawn().await;
    for (what, text) in [
        ("getIntrospectionQuery()", INTROSPECTION),
        ("every option", INTROSPECTION_FULL),
    ] {
        assert_schema(&app.gql(text, json!({}), None).await, what);
    }
    // `__type` is introspection too: its `ofType` chain is not data depth.
    let deep = Limits::default().max_depth + 2;
    let a = app.gql(&of_type_chain(deep), json!({}), None).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert!(a.body.get("errors").is_none(), "{:?}", a.body);
    // `Query` is not a wrapping type: its `ofType` is null.
    assert!(a.body["data"]["__type"]["ofType"].is_null(), "{:?}", a.body);
}

#[tokio::test]
async fn graphiql_introspection_in_production_needs_a_signed_in_caller() {
    let app = TestApp::spawn_with(Environment::Production, PoolOptions::default()).await;
    let a = app.gql(INTROSPECTION, json!({}), None).await;
    assert!(a.body["data"]["__schema"].is_null(), "{:?}", a.body);
    assert!(!a.body.to_string().contains("Viewer"), "{:?}", a.body);
    let (token, _, _) = app.sign_up("introspect@example.com", "Introspect").await;
    assert_schema(
        &app.gql(INTROSPECTION, json!({}), Some(&token)).await,
        "signed in, production",
    );
}

#[tokio::test]
async fn introspection_nesting_is_bounded_by_its_own_rules() {
    let app = TestApp::spawn().await;
    let at = app.gql(&of_type_chain(MAX_OF_TYPE), json!({}), None).await;
    assert_eq!(at.status, 200, "{:?}", at.body);
    assert_refused(
        &app.gql(&of_type_chain(MAX_OF_TYPE + 1), json!({}), None)
            .await,
        "nests `ofType` 17 levels deep; at most 16",
    );
    // Hidden in fragments, counted all the same.
    let hidden = format!(
        "{{ ...A }} fragment A on Query {{ __type(name: \"Query\") {{ ...B }} }} \
         fragment B on __Type {{ ofType {{ ofType {{ ...C }} }} }} \
         fragment C on __Type {{ {}name{} }}",
        "ofType { ".repeat(MAX_OF_TYPE - 1),
        " }".repeat(MAX_OF_TYPE - 1)
    );
    assert_refused(&app.gql(&hidden, json!({}), None).await, "`ofType`");

    // Three nested lists, as the standard query; a fourth multiplies the
    // answer by the schema once more and is refused.
    assert_eq!(MAX_INTROSPECTION_LISTS, 3);
    let three = "{ __schema { types { fields { args { name } } } } }";
    let a = app.gql(three, json!({}), None).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let four = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    assert_refused(&app.gql(four, json!({}), None).await, "nests 4 list fields");
    let four_via_type = "{ __type(name: \"Query\") { fields { type { fields { type { \
                         fields { type { fields { name } } } } } } } } }";
    assert_refused(
        &app.gql(four_via_type, json!({}), None).await,
        "list fields",
    );
}

#[tokio::test]
async fn data_keeps_its_depth_limit_beside_introspection() {
    let app = TestApp::spawn().await;
    let max = Limits::default().max_depth;
    // Past the limit in the data part of a document that also introspects.
    let data = format!(
        "{{ __schema {{ queryType {{ name }} }} {}x{} }}",
        "a { ".repeat(max),
        " }".repeat(max)
    );
    let a = app.gql(&data, json!({}), None).await;
    assert_refused(&a, "nested too deep");
    let body: &Value = &a.body;
    assert!(body.get("data").is_none(), "nothing ran: {body:?}");
}
