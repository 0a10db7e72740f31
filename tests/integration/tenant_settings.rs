//! `updateTenant`: name, slug and branding, end to end. Custom branding needs a
//! plan that includes it (PAYMENT_REQUIRED otherwise, nothing changed); absent
//! settings stay as they were; a taken slug is a CONFLICT; each change writes
//! one `tenant.update` audit entry with its before and after.

use serde_json::json;

use crate::support::TestApp;

const UPDATE: &str = "mutation($i: UpdateTenantInput!) { updateTenant(input: $i) \
    { name slug branding { displayName primaryColor logoUrl } } }";

#[tokio::test(flavor = "multi_thread")]
async fn tenant_settings_follow_the_plan_and_keep_what_is_absent() {
    let app = TestApp::spawn().await;
    let (token, _, tenant) = app
        .sign_up("settings-owner@example.com", "Settings Co")
        .await;
    let (other, _, _) = app.sign_up("settings-other@example.com", "Other Co").await;
    let audit = format!(
        "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}' AND action = 'tenant.update'"
    );

    // The free plan has no custom branding: refused, nothing changes.
    let branded = json!({ "primaryColor": "#4f46e5", "logoUrl": "https://cdn.example.com/l.png" });
    let a = app
        .gql(
            UPDATE,
            json!({ "i": { "name": "Renamed", "branding": branded } }),
            Some(&token),
        )
        .await;
    assert_eq!(a.code(), "PAYMENT_REQUIRED", "{:?}", a.body);
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM tenants WHERE id = '{tenant}' AND name = 'Settings Co' AND branding = '{{}}'::jsonb"
            ))
            .await,
        1
    );
    assert_eq!(app.db.count(&audit).await, 0);

    // Branding left at its defaults is no custom branding: allowed on free.
    let a = app
        .gql(UPDATE, json!({ "i": { "branding": {} } }), Some(&other))
        .await;
    assert!(a.body["errors"].is_null(), "{:?}", a.body);

    // On a plan with custom branding it is stored, with the new name.
    app.db
        .count(&format!(
            "WITH v AS (UPDATE tenants SET plan_key = 'pro' WHERE id = '{tenant}' RETURNING 1) \
             SELECT count(*) AS n FROM v"
        ))
        .await;
    let a = app
        .gql(
            UPDATE,
            json!({ "i": { "name": "Renamed", "branding": branded } }),
            Some(&token),
        )
        .await;
    let t = &a.body["data"]["updateTenant"];
    assert_eq!(t["name"], "Renamed", "{:?}", a.body);
    assert_eq!(t["branding"]["primaryColor"], "#4f46e5");
    assert_eq!(t["branding"]["logoUrl"], "https://cdn.example.com/l.png");
    let slug = t["slug"].as_str().unwrap().to_owned();
    assert_eq!(app.db.count(&audit).await, 1);

    // Only the slug: name and branding stay.
    let a = app
        .gql(
            UPDATE,
            json!({ "i": { "slug": "settings-co-2" } }),
            Some(&token),
        )
        .await;
    let t = &a.body["data"]["updateTenant"];
    assert_eq!(t["slug"], "settings-co-2", "{:?}", a.body);
    assert_eq!(t["name"], "Renamed");
    assert_eq!(t["branding"]["primaryColor"], "#4f46e5");
    assert_eq!(
        app.db
            .count(&format!(
                "SELECT count(*) AS n FROM audit_log WHERE tenant_id = '{tenant}' AND action = 'tenant.update' \
                 AND before->>'slug' = '{slug}' AND after->>'slug' = 'settings-co-2' \
                 AND after->'branding'->>'primaryColor' = '#4f46e5'"
            ))
            .await,
        1
    );

    // Another tenant's slug: CONFLICT, nothing changes.
    let a = app
        .gql(
            UPDATE,
            json!({ "i": { "name": "Taken", "slug": "settings-co-2" } }),
            Some(&other),
        )
        .await;
    assert_eq!(a.code(), "CONFLICT", "{:?}", a.body);
    assert_eq!(
        app.db
            .count("SELECT count(*) AS n FROM tenants WHERE name = 'Taken'")
            .await,
        0
    );
}
