//! Stripe's form encoding read into a tree: `a[b][0][c]=v` pairs (query
//! strings and `application/x-www-form-urlencoded` bodies alike) become nested
//! JSON objects and arrays with string leaves, so a handler reads
//! `form.get("line_items.0.price")` whatever notation the client used
//! (`items[0][price]`, `expand[]`, `lookup_keys[]`).

use serde_json::{Map, Value};

/// A parsed form: an object tree whose leaves are strings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Form(pub Value);

/// Why a form could not be read (answered as Stripe's `invalid_request_error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub param: String,
    pub message: String,
}

impl Form {
    /// Parses `a[b][0]=v&…` (percent-decoded, `+` as space).
    pub fn parse(raw: &str) -> Result<Self, FormError> {
        let mut root = Value::Object(Map::new());
        for (key, value) in form_urlencoded_pairs(raw) {
            let path = split_key(&key).ok_or_else(|| FormError {
                param: key.clone(),
                message: format!("Invalid parameter name: {key}"),
            })?;
            insert(&mut root, &path, Value::String(value)).map_err(|message| FormError {
                param: key.clone(),
                message,
            })?;
        }
        Ok(Self(root))
    }

    /// The value at a dotted path (`line_items.0.price`).
    pub fn value(&self, path: &str) -> Option<&Value> {
        let mut at = &self.0;
        for part in path.split('.') {
            at = match at {
                Value::Object(map) => map.get(part)?,
                Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(at)
    }

    /// The string at `path`, if any (an empty string counts as unset, as
    /// Stripe treats `param=` as "clear it").
    pub fn str(&self, path: &str) -> Option<&str> {
        self.value(path)?.as_str().filter(|s| !s.is_empty())
    }

    /// The string at `path`, or a `parameter_missing` error naming it.
    pub fn required(&self, path: &str) -> Result<&str, FormError> {
        self.str(path).ok_or_else(|| FormError {
            param: bracketed(path),
            message: format!("Missing required param: {}.", bracketed(path)),
        })
    }

    /// An integer at `path`.
    pub fn int(&self, path: &str) -> Result<Option<i64>, FormError> {
        match self.str(path) {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| FormError {
                param: bracketed(path),
                message: format!("Invalid integer: {s}"),
            }),
        }
    }

    /// A boolean at `path` (`true`/`false`).
    pub fn bool(&self, path: &str) -> Result<Option<bool>, FormError> {
        match self.str(path) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(s) => Err(FormError {
                param: bracketed(path),
                message: format!("Invalid boolean: {s}"),
            }),
        }
    }

    /// The list at `path` (`a[]=x&a[]=y` or `a[0]=x&a[1]=y`), as strings.
    pub fn strings(&self, path: &str) -> Vec<String> {
        match self.value(path) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// The objects of the list at `path` (`items[0][price]=…`).
    pub fn objects(&self, path: &str) -> Vec<Form> {
        match self.value(path) {
            Some(Value::Array(items)) => items.iter().map(|v| Form(v.clone())).collect(),
            _ => Vec::new(),
        }
    }

    /// The string map at `path` (`metadata[k]=v`); an empty `metadata=`
    /// clears it and reads as `Some(empty)`.
    pub fn map(&self, path: &str) -> Option<serde_json::Map<String, Value>> {
        match self.value(path)? {
            Value::Object(map) => Some(
                map.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), Value::String(s.into()))))
                    .collect(),
            ),
            Value::String(s) if s.is_empty() => Some(Map::new()),
            _ => None,
        }
    }
}

/// `line_items.0.price` as Stripe names it: `line_items[0][price]`.
pub fn bracketed(path: &str) -> String {
    let mut parts = path.split('.');
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        out.push('[');
        out.push_str(part);
        out.push(']');
    }
    out
}

/// Decoded `key=value` pairs of a form (`+` is a space).
fn form_urlencoded_pairs(raw: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw).unwrap_or_else(|_| {
        // serde_urlencoded only fails on invalid UTF-8 after decoding; keep
        // what decodes.
        raw.split('&')
            .filter_map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let k = serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("{k}=x"))
                    .ok()?
                    .pop()?
                    .0;
                let v = serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("x={v}"))
                    .ok()?
                    .pop()?
                    .1;
                Some((k, v))
            })
            .collect()
    })
}

/// One step of a key's path: a name, an index, or `[]` (append).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Name(String),
    Index(usize),
    Append,
}

/// `a[b][0][]` into its steps; `None` when the brackets do not balance.
fn split_key(key: &str) -> Option<Vec<Step>> {
    let (head, mut rest) = match key.find('[') {
        Some(at) => (&key[..at], &key[at..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return None;
    }
    let mut steps = vec![Step::Name(head.to_owned())];
    while !rest.is_empty() {
        let close = rest.find(']')?;
        if !rest.starts_with('[') {
            return None;
        }
        let inner = &rest[1..close];
        steps.push(if inner.is_empty() {
            Step::Append
        } else if let Ok(i) = inner.parse::<usize>() {
            if i > 1000 {
                return None;
            }
            Step::Index(i)
        } else {
            Step::Name(inner.to_owned())
        });
        rest = &rest[close + 1..];
    }
    Some(steps)
}

fn insert(at: &mut Value, path: &[Step], value: Value) -> Result<(), String> {
    let Some((step, rest)) = path.split_first() else {
        *at = value;
        return Ok(());
    };
    match step {
        Step::Name(name) => {
            if at.is_null() {
                *at = Value::Object(Map::new());
            }
            let Value::Object(map) = at else {
                return Err(format!("Invalid hash for {name}"));
            };
            let slot = map.entry(name.clone()).or_insert(Value::Null);
            insert(slot, rest, value)
        }
        Step::Index(i) => {
            if at.is_null() {
                *at = Value::Array(Vec::new());
            }
            let Value::Array(items) = at else {
                return Err("Invalid array".into());
            };
            while items.len() <= *i {
                items.push(Value::Null);
            }
            insert(&mut items[*i], rest, value)
        }
        Step::Append => {
            if at.is_null() {
                *at = Value::Array(Vec::new());
            }
            let Value::Array(items) = at else {
                return Err("Invalid array".into());
            };
            items.push(Value::Null);
            let last = items.len() - 1;
            insert(&mut items[last], rest, value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_nest() {
        let form = Form::parse(
            "mode=subscription&line_items[0][price]=price_1&line_items[0][quantity]=1\
             &metadata[tenant_id]=t1&subscription_data[trial_period_days]=14\
             &expand[]=customer&expand[]=subscription&lookup_keys[0]=a&lookup_keys[1]=b\
             &created[gte]=5&success_url=https%3A%2F%2Fx%2F%3Fa%3D%7BCHECKOUT_SESSION_ID%7D",
        )
        .unwrap();
        assert_eq!(form.str("mode"), Some("subscription"));
        assert_eq!(form.str("line_items.0.price"), Some("price_1"));
        assert_eq!(form.int("line_items.0.quantity").unwrap(), Some(1));
        assert_eq!(form.str("metadata.tenant_id"), Some("t1"));
        assert_eq!(
            form.int("subscription_data.trial_period_days").unwrap(),
            Some(14)
        );
        assert_eq!(form.strings("expand"), vec!["customer", "subscription"]);
        assert_eq!(form.strings("lookup_keys"), vec!["a", "b"]);
        assert_eq!(form.int("created.gte").unwrap(), Some(5));
        assert_eq!(
            form.str("success_url"),
            Some("https://x/?a={CHECKOUT_SESSION_ID}")
        );
        assert_eq!(form.objects("line_items").len(), 1);
        assert!(form.required("customer").is_err());
        assert_eq!(form.required("customer").unwrap_err().param, "customer");
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(Form::parse("a[b=1").is_err());
        assert!(Form::parse("[x]=1").is_err());
        assert!(Form::parse("a=1&a[b]=2").is_err());
        assert!(Form::parse("a[99999]=1").is_err());
    }

    #[test]
    fn empty_metadata_clears() {
        let form = Form::parse("metadata=").unwrap();
        assert_eq!(form.map("metadata"), Some(Map::new()));
        assert_eq!(bracketed("items.0.price"), "items[0][price]");
    }
}
