//! `tenantgate stripe-sim`: refused in production, keys printed in development.

#[test]
fn the_cli_refuses_production_and_prints_its_keys_in_development() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_tenantgate");
    let out = Command::new(bin)
        .args(["stripe-sim", "--env", "production"])
        .env_remove("TENANTGATE_ENV")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused with --env production"), "{stderr}");

    let live = Command::new(bin)
        .args(["stripe-sim", "--listen", "127.0.0.1:0"])
        .env("STRIPE_SECRET_KEY", "sk_live_nope")
        .env_remove("TENANTGATE_ENV")
        .output()
        .unwrap();
    assert!(!live.status.success());

    let mut child = Command::new(bin)
        .args([
            "stripe-sim",
            "--listen",
            "127.0.0.1:0",
            "--webhook-url",
            "http://127.0.0.1:9/h",
        ])
        .env_remove("TENANTGATE_ENV")
        .env_remove("STRIPE_SECRET_KEY")
        .env_remove("STRIPE_WEBHOOK_SECRET")
        .env("TENANTGATE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .take(4)
        .map(Result::unwrap)
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines[0].starts_with("Stripe simulator listening on http://127.0.0.1:"),
        "{lines:?}"
    );
    assert!(lines[2].contains("STRIPE_SECRET_KEY=sk_test_"), "{lines:?}");
    assert!(
        lines[3].contains("STRIPE_WEBHOOK_SECRET=whsec_"),
        "{lines:?}"
    );
}
