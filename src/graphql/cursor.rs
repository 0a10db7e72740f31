//! Relay cursors and page sizes.
//!
//! A cursor is an opaque position `(timestamp, id)` in one list; it carries no
//! tenant, and every list is read inside the caller's scope, so a cursor from
//! elsewhere can only position within rows the caller may already see.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Page size when `first` is not given.
pub const DEFAULT_PAGE: i64 = 20;
/// Largest page.
pub const MAX_PAGE: i64 = 100;

/// The cost of a list field, for the complexity limit: one for the field,
/// plus its selection once for every row it may return (`first`, or the
/// default page size), as GitHub's and graphql-armor's cost models count. A
/// `first` out of range costs as much as the largest page (it is refused
/// when the field runs).
pub fn list_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.map_or(DEFAULT_PAGE, |n| i64::from(n).clamp(0, MAX_PAGE));
    usize::try_from(rows)
        .unwrap_or(0)
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

/// The cursor of a row at `at` with id `id`.
pub fn encode(at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{}:{id}", at.timestamp_micros()))
}

/// Reads a cursor; BAD_USER_INPUT when it is not one of ours.
pub fn decode(cursor: &str) -> AppResult<(DateTime<Utc>, Uuid)> {
    let bad = || AppError::bad_field("after", "not a valid cursor");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ':');
    let (Some("v1"), Some(micros), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    // Rows are stamped by the database clock: anything outside 1970..10000 is
    // not a real position (and PostgreSQL would reject some of it).
    const YEAR_10000: i64 = 253_402_300_800_000_000;
    let at = micros
        .parse::<i64>()
        .ok()
        .filter(|m| (0..YEAR_10000).contains(m))
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

/// The cursor of a row at `at` whose id is an outside system's text id
/// (e.g. Stripe's `in_…`).
pub fn encode_text(at: DateTime<Utc>, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("t1:{}:{id}", at.timestamp_micros()))
}

/// Reads a cursor of [`encode_text`]; BAD_USER_INPUT when it is not one.
pub fn decode_text(cursor: &str) -> AppResult<(DateTime<Utc>, String)> {
    let bad = || AppError::bad_field("after", "not a valid cursor");
    if cursor.len() > 400 {
        return Err(bad());
    }
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ':');
    let (Some("t1"), Some(micros), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let at = micros
        .parse::<i64>()
        .ok()
        .filter(|m| (0..253_402_300_800_000_000).contains(m))
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    let id_ok = !id.is_empty()
        && id.len() <= 255
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !id_ok {
        return Err(bad());
    }
    Ok((at, id.to_owned()))
}

/// Reads an optional cursor.
pub fn decode_opt(cursor: Option<&str>) -> AppResult<Option<(DateTime<Utc>, Uuid)>> {
    cursor.map(decode).transpose()
}

/// A Relay connection from a page read with `limit + 1` rows: the extra row
/// only says that there is a next page. `position` gives a row's cursor key.
pub fn connection<R, N: async_graphql::OutputType>(
    rows: Vec<R>,
    limit: i64,
    after_cursor: bool,
    position: impl Fn(&R) -> (DateTime<Utc>, Uuid),
    mut node: impl FnMut(R) -> N,
) -> Connection<String, N, EmptyFields, EmptyFields> {
    let has_next = rows.len() as i64 > limit;
    let mut connection = Connection::new(after_cursor, has_next);
    connection
        .edges
        .extend(rows.into_iter().take(limit as usize).map(|row| {
            let (at, id) = position(&row);
            Edge::new(encode(at, id), node(row))
        }));
    connection
}

/// The page size for `first`: 1 to 100, 20 when absent.
pub fn page_size(first: Option<i32>) -> AppResult<i64> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE as i32).contains(&n) => Ok(i64::from(n)),
        Some(_) => Err(AppError::bad_field(
            "first",
            format!("first must be between 1 and {MAX_PAGE}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let at = DateTime::from_timestamp_micros(1_795_000_000_123_456).unwrap();
        let id = Uuid::new_v4();
        assert_eq!(decode(&encode(at, id)).unwrap(), (at, id));
        let far = format!("v1:-210866803200000000:{id}");
        for bad in [
            "",
            "nope",
            &URL_SAFE_NO_PAD.encode("v2:1:x"),
            &URL_SAFE_NO_PAD.encode("v1:x:y"),
            &URL_SAFE_NO_PAD.encode(far),
        ] {
            assert_eq!(decode(bad).unwrap_err().code().as_str(), "BAD_USER_INPUT");
        }
        let text = encode_text(at, "in_1Abc");
        assert_eq!(decode_text(&text).unwrap(), (at, "in_1Abc".to_owned()));
        assert!(decode_text(&encode(at, id)).is_err());
        assert!(decode_text(&URL_SAFE_NO_PAD.encode("t1:1:in_1'; --")).is_err());
        assert_eq!(page_size(None).unwrap(), 20);
        assert!(page_size(Some(0)).is_err());
        assert!(page_size(Some(101)).is_err());
    }
}
