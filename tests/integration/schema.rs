//! `schema.graphql` is generated from the code: this fails when it drifts.

#[test]
fn schema_graphql_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    let generated = tenantgate::graphql::sdl();
    if checked_in != generated {
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(path, &generated).unwrap();
            return;
        }
        panic!(
            "schema.graphql is out of date: run `cargo run -- schema > schema.graphql` \
             (or this test with UPDATE_SCHEMA=1)"
        );
    }
}

#[test]
fn every_field_is_documented() {
    let sdl = tenantgate::graphql::sdl();
    let lines: Vec<&str> = sdl.lines().collect();
    let mut in_schema_block = false;
    let mut in_doc = false;
    let mut documented = false;
    for line in &lines {
        let t = line.trim();
        if !line.starts_with([' ', '\t']) {
            in_schema_block = t.starts_with("schema");
        }
        if t == "\"\"\"" {
            in_doc = !in_doc;
            documented = true;
            continue;
        }
        if in_doc || in_schema_block {
            continue;
        }
        let is_field = line.starts_with('\t') || line.starts_with("  ");
        if is_field && t.contains(':') {
            assert!(documented, "undocumented field: {t}");
        }
        documented = t.starts_with('"') && t.ends_with('"') && t.len() > 1;
    }
}

#[tokio::test]
async fn diesel_schema_rs_matches_the_migrated_database() {
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;

    #[derive(diesel::QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
    }
    let db = crate::support::TestDb::create().await;
    let mut conn = db.owner().await;
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'
           -- Partitions (of usage_batches) are the server's to manage, not diesel's.
           AND table_name::text NOT IN (SELECT relname FROM pg_class WHERE relispartition)
         ORDER BY table_name, ordinal_position",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let mut expected = String::new();
    let mut current = "";
    for c in &columns {
        if c.table_name != current {
            current = &c.table_name;
            expected.push_str(&format!("\ntable {current}:"));
        }
        expected.push_str(&format!(" {}", c.column_name));
    }
    // The same outline, read from src/db/schema.rs (as `diesel print-schema` writes it).
    let source = include_str!("../../src/db/schema.rs");
    let mut found = String::new();
    let mut tables: Vec<(String, String)> = Vec::new();
    let mut table = None;
    for line in source.lines() {
        let t = line.trim();
        if let Some(head) = t.strip_suffix('{').filter(|h| h.contains('(')) {
            let name = head.split_whitespace().next().unwrap().to_owned();
            table = Some((name, String::new()));
        } else if t == "}" {
            if let Some(done) = table.take() {
                tables.push(done);
            }
        } else if let (Some((_, cols)), Some((col, _))) = (table.as_mut(), t.split_once(" -> ")) {
            cols.push_str(&format!(" {col}"));
        }
    }
    tables.sort();
    for (name, cols) in tables {
        found.push_str(&format!("\ntable {name}:{cols}"));
    }
    assert_eq!(
        found, expected,
        "src/db/schema.rs drifted from migrations/: regenerate it with `diesel print-schema`"
    );
}
