//! Strings that PostgreSQL cannot store, or that no field of ours means to
//! hold, are refused at the boundary with BAD_USER_INPUT naming the field.
//!
//! PostgreSQL `text` cannot hold NUL, yet `"\u0000"` is valid JSON: a NUL that
//! reached an INSERT would fail the whole statement (and, in a batch writer,
//! every other row of the batch). The other control characters (C0, DEL, C1)
//! have no place in a name, an email, a slug, a key or a token, and end up in
//! logs and emails; tab, line feed and carriage return are allowed only in the
//! free-text fields named in [`MULTILINE_FIELDS`]. Invisible characters that
//! reorder or hide text (bidi overrides, zero-width space) are refused too. GraphQL requests are checked
//! by `graphql::document::strings`, JSON bodies by [`check_json`].

use crate::error::{AppError, AppResult};

/// Input fields that hold free text over several lines: tab, line feed and
/// carriage return are allowed there (and only there).
pub const MULTILINE_FIELDS: &[&str] = &["description"];

/// Invisible characters that reorder or hide text (bidirectional overrides
/// and isolates, zero-width space, word joiner, byte-order mark): a name or
/// email shown in a list or an invitation could be made to read as another.
/// Zero-width (non-)joiners stay allowed: scripts and emoji need them.
fn deceptive(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The first character of `text` that a field may not hold.
pub fn offending(text: &str, multiline: bool) -> Option<char> {
    // Printable ASCII (most keys, metrics, ids) holds none: one byte scan.
    if text.bytes().all(|b| matches!(b, 0x20..=0x7e)) {
        return None;
    }
    text.chars().find(|&c| {
        (c.is_control() && !(multiline && matches!(c, '\t' | '\n' | '\r'))) || deceptive(c)
    })
}

/// Refuses `text` as the value of `field` (a path such as `input.name`) when
/// it holds a control character the field may not hold.
pub fn check_str(field: &str, text: &str) -> AppResult<()> {
    let last = field
        .rsplit(['.', '['])
        .next()
        .unwrap_or(field)
        .trim_end_matches(']');
    let multiline = MULTILINE_FIELDS.contains(&last);
    match offending(text, multiline) {
        None => Ok(()),
        Some(c) => Err(AppError::bad_field(
            &field.escape_debug().to_string(),
            format!(
                "`{}` contains the character U+{:04X}; {}",
                field.escape_debug(),
                u32::from(c),
                if c == '\0' {
                    "NUL cannot be stored"
                } else {
                    "remove control and invisible characters"
                }
            ),
        )),
    }
}

/// Checks every string of a JSON body (keys and values); `root` names it.
pub fn check_json(value: &serde_json::Value, root: &str) -> AppResult<()> {
    fn walk(value: &serde_json::Value, path: &mut String) -> AppResult<()> {
        match value {
            serde_json::Value::String(s) => check_str(path, s),
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            serde_json::Value::Object(map) => {
                for (key, item) in map {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    check_str(path, key)?;
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(value, &mut root.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(err: AppError) -> String {
        match err {
            AppError::BadUserInput { field, .. } => field.unwrap_or_default(),
            other => panic!("not BAD_USER_INPUT: {other:?}"),
        }
    }

    #[test]
    fn nul_and_control_characters_are_refused_where_they_make_no_sense() {
        assert!(check_str("input.name", "Acme Inc. – ÄÖ 日本").is_ok());
        for bad in ["a\0b", "a\u{1}", "a\u{7f}", "a\u{85}", "a\nb", "a\tb", "\r"] {
            assert!(check_str("input.name", bad).is_err(), "{bad:?}");
        }
        assert!(check_str("input.description", "line\n\tline\r\n").is_ok());
        assert!(check_str("input.description", "nul\0").is_err());
        for sneaky in [
            "a\u{202E}gnp.exe",
            "ad\u{200B}min",
            "\u{FEFF}x",
            "x\u{2066}y",
        ] {
            assert!(check_str("input.name", sneaky).is_err(), "{sneaky:?}");
        }
        assert!(check_str("input.name", "👩\u{200D}💻 ی\u{200C}ک").is_ok());
    }

    #[test]
    fn json_bodies_name_the_field_keys_included() {
        let body = serde_json::json!({ "metric": "ok", "list": ["a", "b\u{1}"] });
        assert_eq!(field_of(check_json(&body, "").unwrap_err()), "list[1]");
        let body = serde_json::json!({ "metric": "ok", "bad\u{0}key": 1 });
        assert_eq!(field_of(check_json(&body, "").unwrap_err()), "bad\\0key");
    }
}
