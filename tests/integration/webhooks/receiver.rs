//! The Node receiver (`tests/fixtures/webhook_receiver.mjs`), which verifies
//! deliveries with the Standard Webhooks reference library.

use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub(crate) struct Receiver {
    pub url: String,
    client: reqwest::Client,
    _child: Child,
}

impl Receiver {
    pub(crate) async fn start() -> Self {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/webhook_receiver.mjs"
        );
        let mut child = Command::new("node")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the webhook receiver");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the receiver prints its port");
        let port = line.strip_prefix("listening ").expect("listening <port>");
        Self {
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            _child: child,
        }
    }

    /// The secrets the receiver verifies with (each on its own).
    pub(crate) async fn secrets(&self, secrets: &[&str]) {
        self.client
            .put(format!("{}/_secrets", self.url))
            .json(&secrets)
            .send()
            .await
            .unwrap();
    }

    /// Every request it got, oldest first.
    pub(crate) async fn log(&self) -> Vec<Value> {
        self.client
            .get(format!("{}/_log", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub(crate) async fn count(&self) -> u64 {
        let v: Value = self
            .client
            .get(format!("{}/_count", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["count"].as_u64().unwrap()
    }
}
