//! The set-up the publishable-key tests share: a publishable key made and an
//! origin allowed through the API, and a workspace with a live key usable
//! from [`SHOP`].

use serde_json::json;

use super::{Answer, TestApp};

/// The origin a [`Widget`]'s key may be used from.
pub const SHOP: &str = "https://shop.example.com";

pub const CREATE: &str = "mutation($i: CreatePublishableKeyInput!) { createPublishableKey(input: $i) { id name key environment createdAt revokedAt } }";
const ADD: &str = "mutation($o: String!) { addAllowedOrigin(origin: $o) { origin } }";

/// Makes a publishable key of `environment` as `token`: (id, key).
pub async fn create_pk(app: &TestApp, token: &str, environment: &str) -> (String, String) {
    let a = app
        .gql(
            CREATE,
            json!({ "i": { "name": "widget", "environment": environment } }),
            Some(token),
        )
        .await;
    assert_eq!(a.status, 200, "createPublishableKey: {:?}", a.body);
    assert!(
        a.body.get("errors").is_none(),
        "createPublishableKey: {:?}",
        a.body
    );
    let k = &a.body["data"]["createPublishableKey"];
    (
        k["id"].as_str().unwrap().to_owned(),
        k["key"].as_str().unwrap().to_owned(),
    )
}

/// Adds `origin` to the allow-list as `token` (the answer, to check).
pub async fn add_origin(app: &TestApp, token: &str, origin: &str) -> Answer {
    app.gql(ADD, json!({ "o": origin }), Some(token)).await
}

/// A new workspace whose live publishable key may be used from [`SHOP`].
pub struct Widget {
    pub owner: String,
    pub tenant: String,
    pub key_id: String,
    pub key: String,
}

impl TestApp {
    /// Signs `email` up (workspace `name`), allows [`SHOP`] and makes a live
    /// publishable key.
    pub async fn widget(&self, email: &str, name: &str) -> Widget {
        let (owner, _, tenant) = self.sign_up(email, name).await;
        let a = add_origin(self, &owner, SHOP).await;
        assert!(a.body.get("errors").is_none(), "origin: {:?}", a.body);
        let (key_id, key) = create_pk(self, &owner, "LIVE").await;
        Widget {
            owner,
            tenant,
            key_id,
            key,
        }
    }
}
