//! Rate limits shared in Redis: two instances count against one limit, and a
//! Redis that goes away gives UNAVAILABLE and heals without a restart. Each test
//! starts its own private `redis-server` (`scripts/test` installs it).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tenantgate::usage::limits::Limiter;

use crate::support::TestApp;

/// A private Redis on a free loopback port, stopped on drop.
pub(crate) struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    pub(crate) fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server; scripts/test does)");
        Self { child, port }
    }

    pub(crate) fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub(crate) async fn ready(&self) {
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("redis-server did not start");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn redis_app(redis: &Redis) -> TestApp {
    let db = crate::support::TestDb::create().await;
    let pool = tenantgate::db::Db::connect(&db.app_url, &Default::default()).expect("pool");
    TestApp::serve_limited(
        db,
        pool,
        tenantgate::config::Environment::Development,
        Limiter::redis(&redis.url()).unwrap(),
    )
    .await
}

async fn key(app: &TestApp, limit: u32) -> String {
    let (token, _, _) = app.sign_up("redis.owner@keys.test", "Redis Co").await;
    let a = app
        .gql(
            "mutation($l: Int!) { createApiKey(input: { name: \"shared\", rateLimit: { limit: $l, periodSeconds: 3600 } }) { secret } }",
            json!({ "l": limit }),
            Some(&token),
        )
        .await;
    a.body["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("createApiKey: {}", a.body))
        .to_owned()
}

async fn authorize(app: &TestApp, secret: &str) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}/v1/authorize", app.url))
        .header("authorization", format!("Bearer {secret}"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn two_instances_share_one_limit_in_redis() {
    let redis = Redis::start(Redis::free_port());
    redis.ready().await;
    let a = redis_app(&redis).await;
    let b = a.peer(Limiter::redis(&redis.url()).unwrap()).await;
    let secret = key(&a, 10).await;
    let mut allowed = 0;
    for i in 0..16 {
        let app = if i % 2 == 0 { &a } else { &b };
        let (status, body) = authorize(app, &secret).await;
        match status {
            200 => allowed += 1,
            429 => assert_eq!(body["reason"], "KEY_RATE_LIMITED", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(allowed, 10, "the two instances must share one limit of 10");
    drop(b);
}

#[tokio::test]
async fn redis_down_is_unavailable_and_heals() {
    let port = Redis::free_port();
    let redis = Redis::start(port);
    redis.ready().await;
    let app = redis_app(&redis).await;
    let secret = key(&app, 1000).await;
    assert_eq!(authorize(&app, &secret).await.0, 200);
    drop(redis);
    let (status, body) = authorize(&app, &secret).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "UNAVAILABLE", "{body}");
    // Back on the same port: the next calls succeed without a restart.
    let redis = Redis::start(port);
    redis.ready().await;
    let mut healed = false;
    for _ in 0..100 {
        if authorize(&app, &secret).await.0 == 200 {
            healed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(healed, "key calls must work again once Redis is back");
}
