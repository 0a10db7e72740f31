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
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if !line.starts_with([' ', '\t']) {
            in_schema_block = t.starts_with("schema");
        }
        if in_schema_block {
            continue;
        }
        let is_field = line.starts_with('\t') || line.starts_with("  ");
        if is_field && t.contains(':') && !t.starts_with('"') && !t.starts_with('#') {
            let prev = lines[i - 1].trim();
            assert!(
                prev.ends_with("\"\"\"") || prev.starts_with('"'),
                "undocumented field: {t}"
            );
        }
    }
}
