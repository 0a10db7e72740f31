//! The ordering of `admin { tenants }` and its cursors. A cursor names the
//! ordering it was made in (field and direction) with the row's sort key
//! and id, so a page continues exactly after it (ties by id, never skipped
//! or repeated) and a cursor from another ordering is refused rather than
//! read as a position it never was.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Enum, InputObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use uuid::Uuid;

use crate::db::tenants::{Order, SortField, SortValue};
use crate::error::{AppError, AppResult};

/// What the tenant list is sorted by (ties by id, in the same direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TenantOrderField {
    /// When the tenant was created.
    CreatedAt,
    /// The tenant's name.
    Name,
    /// How many members the tenant has.
    MemberCount,
    /// The plan's place in the catalogue (free, basic, pro, enterprise, …).
    Plan,
}

/// Which way a list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum OrderDirection {
    /// Smallest, earliest or A first.
    Asc,
    /// Largest, latest or Z first.
    Desc,
}

/// How to sort the tenant list.
#[derive(Debug, Clone, Copy, InputObject)]
pub struct TenantOrder {
    /// The sort key.
    pub field: TenantOrderField,
    /// The direction.
    pub direction: OrderDirection,
}

impl From<Option<TenantOrder>> for Order {
    fn from(order: Option<TenantOrder>) -> Self {
        let Some(order) = order else {
            return Order::default();
        };
        Order {
            field: match order.field {
                TenantOrderField::CreatedAt => SortField::Created,
                TenantOrderField::Name => SortField::Name,
                TenantOrderField::MemberCount => SortField::Members,
                TenantOrderField::Plan => SortField::Plan,
            },
            descending: order.direction == OrderDirection::Desc,
        }
    }
}

fn tag(order: Order) -> String {
    let field = match order.field {
        SortField::Created => "c",
        SortField::Name => "n",
        SortField::Members => "m",
        SortField::Plan => "p",
    };
    format!("{field}{}", if order.descending { "d" } else { "a" })
}

/// The cursor of a row: `o1:<ordering>:<id>:<sort key>`.
pub fn encode(order: Order, value: &SortValue, id: Uuid) -> String {
    let value = match value {
        SortValue::At(at) => at.timestamp_micros().to_string(),
        SortValue::Text(text) => text.clone(),
        SortValue::Number(n) => n.to_string(),
    };
    URL_SAFE_NO_PAD.encode(format!("o1:{}:{id}:{value}", tag(order)))
}

/// Reads a cursor made in `order`; BAD_USER_INPUT (`after`) when it is not
/// one of ours, or was made in another ordering.
pub fn decode(order: Order, cursor: &str) -> AppResult<(SortValue, Uuid)> {
    let bad = || AppError::bad_field("after", "not a valid cursor");
    // A name is at most 100 characters (400 bytes): anything longer is not ours.
    if cursor.len() > 800 {
        return Err(bad());
    }
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = text.splitn(4, ':');
    let (Some("o1"), Some(tagged), Some(id), Some(value)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if tagged != tag(order) {
        return Err(AppError::bad_field(
            "after",
            "this cursor belongs to another ordering: start again from the first page",
        ));
    }
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    let value = match order.field {
        SortField::Created => {
            const YEAR_10000: i64 = 253_402_300_800_000_000;
            SortValue::At(
                value
                    .parse::<i64>()
                    .ok()
                    .filter(|m| (0..YEAR_10000).contains(m))
                    .and_then(DateTime::from_timestamp_micros)
                    .ok_or_else(bad)?,
            )
        }
        SortField::Name => {
            if value.is_empty() || value.chars().count() > 100 || value.contains('\0') {
                return Err(bad());
            }
            SortValue::Text(value.to_owned())
        }
        SortField::Members | SortField::Plan => SortValue::Number(
            value
                .parse::<i64>()
                .ok()
                .filter(|n| (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(n))
                .ok_or_else(bad)?,
        ),
    };
    Ok((value, id))
}

/// A connection from a page read with `limit + 1` rows.
pub fn connection<R, N: async_graphql::OutputType>(
    rows: Vec<R>,
    order: Order,
    limit: i64,
    after_cursor: bool,
    position: impl Fn(&R) -> (&SortValue, Uuid),
    mut node: impl FnMut(R) -> N,
) -> Connection<String, N, EmptyFields, EmptyFields> {
    let has_next = rows.len() as i64 > limit;
    let mut connection = Connection::new(after_cursor, has_next);
    connection
        .edges
        .extend(rows.into_iter().take(limit as usize).map(|row| {
            let (value, id) = position(&row);
            let cursor = encode(order, value, id);
            Edge::new(cursor, node(row))
        }));
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_per_ordering_and_refuse_others() {
        let id = Uuid::new_v4();
        let by_name = Order {
            field: SortField::Name,
            descending: false,
        };
        let name = SortValue::Text("Acme: the one:and only".into());
        let c = encode(by_name, &name, id);
        assert_eq!(decode(by_name, &c).unwrap(), (name, id));
        let other = Order {
            descending: true,
            ..by_name
        };
        assert!(
            decode(other, &c)
                .unwrap_err()
                .to_string()
                .contains("another ordering")
        );
        let members = Order {
            field: SortField::Members,
            descending: true,
        };
        let c = encode(members, &SortValue::Number(7), id);
        assert_eq!(decode(members, &c).unwrap(), (SortValue::Number(7), id));
        for bad in [
            String::new(),
            "nope".into(),
            URL_SAFE_NO_PAD.encode(format!("o1:md:{id}:99999999999")),
            URL_SAFE_NO_PAD.encode(format!("o1:md:{id}:x")),
            URL_SAFE_NO_PAD.encode("o1:md:not-a-uuid:1"),
            URL_SAFE_NO_PAD.encode(format!("o1:cd:{id}:99999999999999999999")),
            "A".repeat(900),
        ] {
            assert_eq!(
                decode(members, &bad).unwrap_err().code().as_str(),
                "BAD_USER_INPUT",
                "{bad}"
            );
        }
    }
}
