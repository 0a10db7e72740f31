//! The layering ARCHITECTURE.md promises, checked on the source text: queries
//! only in `db`, GraphQL types only in `graphql` (and the endpoint's allowed
//! surface in `http`), `graphql` never importing `http`, `auth` knowing no
//! HTTP headers, only `config` reading the environment, and the Stripe
//! simulator apart from everything but its subcommand.

use std::path::{Path, PathBuf};

/// One source file, as the rules see it: its path relative to the crate root
/// (`src/…`, `/`-separated) and its text without comments and test modules.
struct Source {
    path: String,
    code: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src/")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The files declared as `#[cfg(test)] mod name;`: test code, not layers.
fn test_only_modules(root: &Path, files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).expect("read source");
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for pair in lines.windows(2) {
            let (Some(name), "#[cfg(test)]") = (
                pair[1]
                    .strip_prefix("mod ")
                    .and_then(|r| r.strip_suffix(';')),
                pair[0],
            ) else {
                continue;
            };
            let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let dir = if matches!(stem, "mod" | "lib" | "main") {
                file.parent().unwrap_or(root).to_path_buf()
            } else {
                file.with_extension("")
            };
            out.push(dir.join(format!("{name}.rs")));
            out.push(dir.join(name).join("mod.rs"));
        }
    }
    out
}

/// The production code of a file: line comments dropped, and its
/// `#[cfg(test)] mod tests { … }` left out (up to its closing brace, counted
/// line by line: code after it is checked again).
fn production_code(text: &str) -> String {
    let mut out = String::new();
    let mut previous_was_cfg_test = false;
    // Open braces of the test module being skipped, if inside one.
    let mut skipping: Option<i64> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(depth) = skipping.as_mut() {
            *depth += trimmed.matches('{').count() as i64;
            *depth -= trimmed.matches('}').count() as i64;
            if *depth <= 0 {
                skipping = None;
            }
            continue;
        }
        if previous_was_cfg_test && trimmed.starts_with("mod tests") {
            let depth = trimmed.matches('{').count() as i64 - trimmed.matches('}').count() as i64;
            skipping = (depth > 0).then_some(depth);
            previous_was_cfg_test = false;
            continue;
        }
        previous_was_cfg_test = trimmed == "#[cfg(test)]";
        if trimmed.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let tests_only = test_only_modules(root, &files);
    files
        .into_iter()
        .filter(|f| !tests_only.contains(f))
        .map(|f| Source {
            path: f
                .strip_prefix(root)
                .expect("under the crate")
                .to_string_lossy()
                .replace('\\', "/"),
            code: production_code(&std::fs::read_to_string(&f).expect("read source")),
        })
        .collect()
}

/// Every `(file, needle)` where a file the rule covers mentions a needle.
fn crossings(covered: impl Fn(&str) -> bool, needles: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for source in sources().iter().filter(|s| covered(&s.path)) {
        for needle in needles {
            if source.code.contains(needle) {
                out.push(format!("{} mentions `{needle}`", source.path));
            }
        }
    }
    out
}

fn assert_none(rule: &str, found: Vec<String>) {
    assert!(found.is_empty(), "{rule}:\n  {}", found.join("\n  "));
}

#[test]
fn the_rules_see_the_source() {
    // A rule that reads nothing cannot fail: make sure the walk finds the
    // files the rules are about, and that test modules are left out.
    let all = sources();
    for path in ["src/config.rs", "src/db/schema.rs", "src/http/graphql.rs"] {
        assert!(all.iter().any(|s| s.path == path), "{path} not found");
    }
    assert!(
        !all.iter()
            .any(|s| s.path == "src/graphql/document/linear.rs")
    );
    let config = all.iter().find(|s| s.path == "src/config.rs").unwrap();
    assert!(config.code.contains("env"));
    assert!(!config.code.contains("mod tests"));
}

/// Files whose queries have not moved into `src/db/` yet (issue 8): the list
/// may only shrink. A file not on it that runs a query fails the test, and so
/// does a file on it that no longer does (take it off).
#[test]
fn queries_live_in_db() {
    // `tenancy` is the `Db::scoped` machinery (its settings statements).
    let found = crossings(
        |p| !p.starts_with("src/db/") && !p.starts_with("src/tenancy/"),
        &["db::schema", "schema::", "sql_query"],
    );
    assert_none(
        "SQL outside src/db/ (move it into a src/db/ function)",
        found,
    );
}

/// The files of `src/http/` that drive the GraphQL schema: they may use
/// async-graphql's request, response and WebSocket transport types.
const HTTP_GRAPHQL_SURFACE: &[&str] = &[
    "src/http/graphql.rs",
    "src/http/graphql_response.rs",
    "src/http/websocket.rs",
];

#[test]
fn only_graphql_knows_graphql() {
    assert_none(
        "async-graphql outside src/graphql/ and the endpoint's transport",
        crossings(
            |p| !p.starts_with("src/graphql/") && !HTTP_GRAPHQL_SURFACE.contains(&p),
            &["async_graphql"],
        ),
    );
    // The endpoint drives the schema; it defines no GraphQL type and builds
    // no GraphQL error (that mapping is `graphql::errors`).
    assert_none(
        "GraphQL types or errors defined in the HTTP endpoint",
        crossings(
            |p| HTTP_GRAPHQL_SURFACE.contains(&p),
            &[
                "async_graphql::Error",
                "#[Object",
                "SimpleObject",
                "InputObject",
                "#[derive(Enum",
                "#[Scalar",
                "#[Subscription",
                "Interface",
                ".into_server_error",
                "ErrorExtensions",
            ],
        ),
    );
}

#[test]
fn graphql_does_not_import_http() {
    assert_none(
        "src/graphql/ importing src/http/",
        crossings(|p| p.starts_with("src/graphql/"), &["crate::http", "axum"]),
    );
}

#[test]
fn auth_knows_no_http() {
    assert_none(
        "src/auth/ reading HTTP (give it plain values from src/http/credentials.rs)",
        crossings(
            |p| p.starts_with("src/auth/"),
            &["HeaderMap", "axum", "http::header"],
        ),
    );
}

#[test]
fn only_config_reads_the_environment() {
    assert_none(
        "the environment read outside src/config.rs",
        crossings(
            |p| p != "src/config.rs",
            &["std::env", "env::var", "env!(", "option_env!", "dotenv"],
        ),
    );
}

/// Only billing enters the billing role (the one that writes billing rows and
/// a tenant's plan from Stripe's word), and only billing talks to Stripe.
#[test]
fn only_billing_acts_as_billing_or_talks_to_stripe() {
    assert_none(
        "the billing role entered outside src/billing/",
        crossings(
            |p| !p.starts_with("src/billing/") && !p.starts_with("src/tenancy/"),
            &["Scope::billing", "ScopeRole::Billing"],
        ),
    );
    assert_none(
        "Stripe's client used outside src/billing/ (and the simulator)",
        crossings(
            |p| !p.starts_with("src/billing/") && !p.starts_with("src/stripe_sim/"),
            &[
                "stripe::",
                "stripe_billing",
                "stripe_checkout",
                "stripe_core::",
            ],
        ),
    );
}

/// Only the webhook worker enters the role that may claim every tenant's
/// due deliveries.
#[test]
fn only_the_webhook_worker_acts_as_the_webhook_worker() {
    assert_none(
        "the webhook worker role entered outside src/webhooks/worker.rs",
        crossings(
            |p| p != "src/webhooks/worker.rs" && !p.starts_with("src/tenancy/"),
            &["Scope::webhook_worker", "ScopeRole::WebhookWorker"],
        ),
    );
}

/// The Stripe simulator ships in the binary as a development tool only:
/// nothing but the `stripe-sim` subcommand (`server::stripe_sim`) reaches
/// it, and it knows nothing of the rest of the crate (billing talks to it
/// over HTTP, as to Stripe).
#[test]
fn the_stripe_simulator_stays_apart() {
    assert_none(
        "the Stripe simulator reached from outside the stripe-sim subcommand",
        crossings(
            |p| {
                !p.starts_with("src/stripe_sim/")
                    && !matches!(p, "src/lib.rs" | "src/main.rs" | "src/server.rs")
            },
            &["stripe_sim"],
        ),
    );
    assert_none(
        "src/stripe_sim/ using the rest of the crate",
        crossings(|p| p.starts_with("src/stripe_sim/"), &["crate::"]),
    );
}
