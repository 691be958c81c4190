//! CakePHP 2 `Hash` paths (spec §8.1): `extract` and single-value `get` over roaming data.
//!
//! A path is parsed once into a [`HashPath`] and then evaluated any number of times without
//! allocation beyond the result vector. The evaluator follows `Hash::extract` of CakePHP 2.10:
//! every context item is cast to a PHP array (a scalar becomes `[0 => v]`, `null` becomes `[]`),
//! keys are matched with `_matchToken` (`{n}` numeric keys, `{s}` string keys, `{*}` any key,
//! numeric literals compared loosely), and bracket conditions filter with `_matches` (PHP loose
//! comparison, booleans compared as `1`/`0` or `true`/`false`, `/regex/flags` via `preg_match`).
//!
//! Stricter than CakePHP on purpose: text that is not a well-formed condition (unbalanced
//! brackets, an empty value, junk after `]`, a regex that does not compile) is a [`PathError`]
//! naming the byte position instead of being silently ignored.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use regex::Regex;
use serde_json::{Map, Value};

use crate::php;

/// A malformed hash path; `position` is a byte offset into the path text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A `]` without its `[`.
    #[error("unexpected `]` at position {position} in hash path `{path}`")]
    UnexpectedClose { path: String, position: usize },
    /// A `[` never closed.
    #[error("unclosed `[` at position {position} in hash path `{path}`")]
    Unclosed { path: String, position: usize },
    /// A bracket condition that does not follow `[attr]`, `[attr<op>value]` or `[attr=/re/flags]`.
    #[error("malformed condition at position {position} in hash path `{path}`: {reason}")]
    BadCondition {
        path: String,
        position: usize,
        reason: &'static str,
    },
    /// A `/regex/` condition that does not compile.
    #[error("invalid regular expression at position {position} in hash path `{path}`: {message}")]
    BadRegex {
        path: String,
        position: usize,
        message: String,
    },
}

/// A compiled hash path. Cheap to evaluate, immutable, shareable between runs.
#[derive(Debug, Clone)]
pub struct HashPath {
    source: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Empty path: the whole input.
    Whole,
    /// No `{` or `[`: a plain `Hash::get` lookup cast to an array.
    Simple(Vec<String>),
    /// Full `extract` semantics.
    Tokens(Vec<Token>),
}

#[derive(Debug, Clone)]
struct Token {
    key: KeyMatch,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
enum KeyMatch {
    Numeric,
    String,
    Any,
    /// Literal key; `Some(num)` when the token itself is numeric (matched loosely).
    Literal(String, Option<php::Num>),
}

#[derive(Debug, Clone)]
struct Condition {
    attr: String,
    test: Option<(Op, CondValue)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
}

#[derive(Debug, Clone)]
enum CondValue {
    Text(String),
    Regex(Regex),
}

/// A PHP array key: list indices and canonical integer strings are ints, the rest strings.
enum PhpKey<'a> {
    Int(i64),
    Str(&'a str),
}

/// The int a string key becomes in a PHP array (`"12"` → 12; `"012"`, `"-0"`, `"1.0"` stay strings).
fn canonical_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    if s == "-0" {
        return None;
    }
    s.parse().ok()
}

fn php_key(s: &str) -> PhpKey<'_> {
    match canonical_int(s) {
        Some(i) => PhpKey::Int(i),
        None => PhpKey::Str(s),
    }
}

impl KeyMatch {
    fn matches(&self, key: PhpKey<'_>) -> bool {
        match (self, key) {
            (KeyMatch::Any, _) => true,
            (KeyMatch::Numeric, PhpKey::Int(_)) => true,
            (KeyMatch::Numeric, PhpKey::Str(s)) => php::is_numeric(s),
            (KeyMatch::String, PhpKey::Int(_)) => false,
            (KeyMatch::String, PhpKey::Str(_)) => true,
            (KeyMatch::Literal(_, Some(n)), PhpKey::Int(i)) => {
                php::Num::Int(i) == *n || matches!(n, php::Num::Float(f) if *f == i as f64)
            }
            (KeyMatch::Literal(t, Some(n)), PhpKey::Str(s)) => {
                s == t || php::parse_numeric(s).is_some_and(|k| num_eq(k, *n))
            }
            (KeyMatch::Literal(t, None), PhpKey::Str(s)) => s == t,
            (KeyMatch::Literal(_, None), PhpKey::Int(_)) => false,
        }
    }
}

fn num_eq(a: php::Num, b: php::Num) -> bool {
    php::loose_eq(&num_value(a), &num_value(b))
}

fn num_value(n: php::Num) -> Value {
    match n {
        php::Num::Int(i) => Value::from(i),
        php::Num::Float(f) => Value::from(f),
    }
}

/// Splits on `.` outside brackets (CakeText::tokenize), returning each token with its offset.
fn tokenize(path: &str) -> Result<Vec<(usize, &str)>, PathError> {
    let mut out = Vec::new();
    let mut depth: usize = 0;
    let mut start = 0;
    let mut open_at = 0;
    for (i, c) in path.char_indices() {
        match c {
            '[' => {
                if depth == 0 {
                    open_at = i;
                }
                depth += 1;
            }
            ']' => {
                if depth == 0 {
                    return Err(PathError::UnexpectedClose {
                        path: path.into(),
                        position: i,
                    });
                }
                depth -= 1;
            }
            '.' if depth == 0 => {
                out.push((start, &path[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(PathError::Unclosed {
            path: path.into(),
            position: open_at,
        });
    }
    out.push((start, &path[start..]));
    Ok(out)
}

fn parse_key(key: &str) -> KeyMatch {
    match key {
        "{n}" => KeyMatch::Numeric,
        "{s}" => KeyMatch::String,
        "{*}" => KeyMatch::Any,
        other => KeyMatch::Literal(other.to_owned(), php::parse_numeric(other)),
    }
}

fn php_regex(path: &str, position: usize, val: &str) -> Result<Regex, PathError> {
    let bad = |message: String| PathError::BadRegex {
        path: path.into(),
        position,
        message,
    };
    let last = val
        .rfind('/')
        .filter(|&i| i > 0)
        .ok_or_else(|| bad("missing closing `/`".into()))?;
    let pattern = &val[1..last];
    let mut flags = String::new();
    for f in val[last + 1..].chars() {
        match f {
            'i' | 'm' | 's' | 'x' | 'U' => flags.push(f),
            'u' | 'D' => {}
            other => return Err(bad(format!("unsupported flag `{other}`"))),
        }
    }
    let full = if flags.is_empty() {
        pattern.to_owned()
    } else {
        format!("(?{flags}){pattern}")
    };
    Regex::new(&full).map_err(|e| bad(e.to_string()))
}

/// Parses `[..][..]` (the part of a token from its first `[`), offset `base` in the path.
fn parse_conditions(path: &str, base: usize, text: &str) -> Result<Vec<Condition>, PathError> {
    let bad = |position: usize, reason: &'static str| PathError::BadCondition {
        path: path.into(),
        position: base + position,
        reason,
    };
    let b = text.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        if b[i] != b'[' {
            return Err(bad(i, "expected `[`"));
        }
        let open = i;
        i += 1;
        let attr_start = i;
        while i < b.len() && !matches!(b[i], b'=' | b'<' | b'>' | b'!' | b']') {
            i += 1;
        }
        if i >= b.len() {
            return Err(bad(open, "unclosed condition"));
        }
        let raw_attr = &text[attr_start..i];
        if b[i] == b']' {
            if raw_attr.is_empty() {
                return Err(bad(open, "empty attribute name"));
            }
            out.push(Condition {
                attr: raw_attr.to_owned(),
                test: None,
            });
            i += 1;
            continue;
        }
        let attr = raw_attr.trim_end();
        if attr.is_empty() {
            return Err(bad(open, "empty attribute name"));
        }
        let op = match (b[i], b.get(i + 1)) {
            (b'!', Some(b'=')) => Op::Ne,
            (b'>', Some(b'=')) => Op::Ge,
            (b'<', Some(b'=')) => Op::Le,
            (b'=', _) => Op::Eq,
            (b'>', _) => Op::Gt,
            (b'<', _) => Op::Lt,
            _ => return Err(bad(i, "expected an operator")),
        };
        i += if matches!(op, Op::Ne | Op::Ge | Op::Le) {
            2
        } else {
            1
        };
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let val_start = i;
        let rest = &text[val_start..];
        // Alternative 1 of CakePHP's pattern: `/.*?/` directly followed by `]`.
        let regex_end = if rest.starts_with('/') {
            rest.match_indices("/]").map(|(j, _)| j).find(|&j| j > 0)
        } else {
            None
        };
        let (val, after) = match regex_end {
            Some(j) => (&rest[..=j], val_start + j + 1),
            None => match rest.find(']') {
                Some(j) => (&rest[..j], val_start + j),
                None => return Err(bad(open, "unclosed condition")),
            },
        };
        if val.is_empty() {
            return Err(bad(val_start, "empty value"));
        }
        let value = if op == Op::Eq && val.starts_with('/') {
            CondValue::Regex(php_regex(path, base + val_start, val)?)
        } else {
            CondValue::Text(val.to_owned())
        };
        out.push(Condition {
            attr: attr.to_owned(),
            test: Some((op, value)),
        });
        i = after + 1;
    }
    Ok(out)
}

/// Element of a PHP array by key (`$data[$key]`), for lists and objects.
pub(crate) fn php_index<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => map_get(m, key),
        Value::Array(a) => canonical_int(key)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| a.get(i)),
        _ => None,
    }
}

pub(crate) fn php_index_mut<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    match v {
        Value::Object(m) => m.get_mut(key),
        Value::Array(a) => canonical_int(key)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(move |i| a.get_mut(i)),
        _ => None,
    }
}

impl Condition {
    fn matches(&self, item: &Value) -> bool {
        if !matches!(item, Value::Array(_) | Value::Object(_)) {
            return false;
        }
        let prop = php_index(item, &self.attr);
        let Some((op, value)) = &self.test else {
            return prop.is_some_and(|p| !p.is_null());
        };
        let Some(prop) = prop else { return false };
        let text_val = match value {
            CondValue::Text(t) => Some(t.as_str()),
            CondValue::Regex(_) => None,
        };
        let converted;
        let prop = match prop {
            Value::Bool(b) => {
                let numeric = text_val.is_some_and(php::is_numeric);
                converted = Value::String(
                    match (numeric, b) {
                        (true, true) => "1",
                        (true, false) => "0",
                        (false, true) => "true",
                        (false, false) => "false",
                    }
                    .into(),
                );
                &converted
            }
            other => other,
        };
        match value {
            // Strings are matched in place; only other scalars need PHP's string form.
            CondValue::Regex(re) => match prop {
                Value::String(s) => re.is_match(s),
                other => php::to_php_string(other).is_some_and(|s| re.is_match(&s)),
            },
            CondValue::Text(t) => match op {
                Op::Eq => php::loose_eq_str(prop, t),
                Op::Ne => !php::loose_eq_str(prop, t),
                Op::Gt | Op::Lt | Op::Ge | Op::Le => {
                    let ord = php::compare(prop, &Value::String(t.clone()));
                    match op {
                        Op::Gt => ord == Ordering::Greater,
                        Op::Lt => ord == Ordering::Less,
                        Op::Ge => ord != Ordering::Less,
                        _ => ord != Ordering::Greater,
                    }
                }
            },
        }
    }
}

impl Token {
    fn passes(&self, item: &Value) -> bool {
        self.conditions.iter().all(|c| c.matches(item))
    }

    /// Calls `f` on the children of `item` (cast to a PHP array) whose key matches, in order,
    /// until `f` breaks.
    fn select<'a>(
        &self,
        item: &'a Value,
        f: &mut impl FnMut(&'a Value) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        match item {
            Value::Null => {}
            Value::Object(m) => {
                if let KeyMatch::Literal(t, None) = &self.key {
                    if let Some(v) = map_get(m, t) {
                        return f(v);
                    }
                    return ControlFlow::Continue(());
                }
                for (k, v) in m {
                    if self.key.matches(php_key(k)) {
                        f(v)?;
                    }
                }
            }
            Value::Array(a) => match &self.key {
                KeyMatch::Numeric | KeyMatch::Any => {
                    for v in a {
                        f(v)?;
                    }
                }
                KeyMatch::String | KeyMatch::Literal(_, None) => {}
                KeyMatch::Literal(t, Some(_)) => {
                    if let Some(i) = canonical_int(t).and_then(|i| usize::try_from(i).ok()) {
                        if let Some(v) = a.get(i) {
                            return f(v);
                        }
                    } else {
                        for (i, v) in a.iter().enumerate() {
                            if self.key.matches(PhpKey::Int(i as i64)) {
                                f(v)?;
                            }
                        }
                    }
                }
            },
            scalar => {
                if self.key.matches(PhpKey::Int(0)) {
                    return f(scalar);
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// Object lookup (keys are unique, so every strategy finds the same entry). Small maps (tags)
/// are scanned: comparing lengths in the entry list is cheaper than hashing the key with
/// SipHash. Larger maps check their last entry first, because that is where the core format
/// appends its extras (`_allTags`, `_AttributeFlattened`), then hash.
pub(crate) fn map_get<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if m.len() <= SCAN_LIMIT {
        return m.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v);
    }
    match m.iter().next_back() {
        Some((k, v)) if k.as_str() == key => Some(v),
        _ => m.get(key),
    }
}

/// Largest map searched by a scan instead of a hash lookup (see [`map_get`]).
const SCAN_LIMIT: usize = 8;

/// Longest token list evaluated by [`visit_chunked`] (one recursion level per token); longer,
/// pathological paths are evaluated by [`extract_levels`] so that no path can exhaust the stack.
const MAX_RECURSIVE_TOKENS: usize = 64;

/// Items gathered at one level before the next level runs on them (see [`visit_chunked`]).
const CHUNK: usize = 32;

/// Level-by-level evaluation in chunks: each level gathers up to [`CHUNK`] selected items and
/// hands them to the next level, so the lookups of a chunk are independent (their cache misses
/// overlap, as in the plain level-by-level loop) while the visit can still stop early. The
/// values come in the same order as [`extract_levels`] returns them: each level keeps document
/// order and chunks are flushed in order.
fn visit_chunked<'a>(
    items: &[&'a Value],
    tokens: &[Token],
    bufs: &mut [Vec<&'a Value>],
    f: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let (Some((token, rest)), Some((next, rest_bufs))) =
        (tokens.split_first(), bufs.split_first_mut())
    else {
        return items.iter().try_for_each(|v| f(v));
    };
    next.clear();
    for item in items {
        token.select(item, &mut |child| {
            if token.conditions.is_empty() || token.passes(child) {
                next.push(child);
                if next.len() >= CHUNK {
                    visit_chunked(next, rest, rest_bufs, f)?;
                    next.clear();
                }
            }
            ControlFlow::Continue(())
        })?;
    }
    visit_chunked(next, rest, rest_bufs, f)
}

/// Level-by-level evaluation (`Hash::extract`'s own loop), for paths too long to recurse on.
fn extract_levels<'a>(data: &'a Value, tokens: &[Token]) -> Vec<&'a Value> {
    let mut context: Vec<&'a Value> = vec![data];
    for token in tokens {
        let mut next = Vec::with_capacity(context.len());
        for item in &context {
            let _ = token.select(item, &mut |v| {
                next.push(v);
                ControlFlow::Continue(())
            });
        }
        if !token.conditions.is_empty() {
            next.retain(|v| token.passes(v));
        }
        context = next;
        if context.is_empty() {
            break;
        }
    }
    context
}

/// Calls `f` on the values of `v` cast to a PHP array (`(array)$v`).
fn visit_as_array<'a>(
    v: &'a Value,
    f: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
) -> ControlFlow<()> {
    match v {
        Value::Null => ControlFlow::Continue(()),
        Value::Array(a) => a.iter().try_for_each(f),
        Value::Object(m) => m.values().try_for_each(f),
        scalar => f(scalar),
    }
}

impl HashPath {
    /// Compiles a path; an error names the position of the first malformed part.
    pub fn parse(path: &str) -> Result<Self, PathError> {
        let kind = if path.is_empty() {
            Kind::Whole
        } else if !path.contains(['{', '[']) {
            if path.contains(']') {
                let position = path.find(']').unwrap_or(0);
                return Err(PathError::UnexpectedClose {
                    path: path.into(),
                    position,
                });
            }
            Kind::Simple(path.split('.').map(str::to_owned).collect())
        } else {
            let mut tokens = Vec::new();
            for (offset, tok) in tokenize(path)? {
                let (key, conditions) = match tok.find('[') {
                    Some(p) => (&tok[..p], parse_conditions(path, offset + p, &tok[p..])?),
                    None => (tok, Vec::new()),
                };
                tokens.push(Token {
                    key: parse_key(key),
                    conditions,
                });
            }
            Kind::Tokens(tokens)
        };
        Ok(HashPath {
            source: path.to_owned(),
            kind,
        })
    }

    /// The path text as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True for the empty path (selects the whole input).
    pub fn is_empty(&self) -> bool {
        matches!(self.kind, Kind::Whole)
    }

    /// `Hash::extract`: every value the path selects, in document order.
    ///
    /// The empty path and plain paths return the selected value cast to a PHP array (a list's
    /// elements, an object's values, `[v]` for a scalar, nothing for `null` or a miss).
    pub fn extract<'a>(&self, data: &'a Value) -> Vec<&'a Value> {
        if let Kind::Tokens(tokens) = &self.kind {
            return extract_levels(data, tokens);
        }
        let mut out = Vec::new();
        let _ = self.visit(data, &mut |v| {
            out.push(v);
            ControlFlow::Continue(())
        });
        out
    }

    /// Calls `f` on every value [`HashPath::extract`] would return, in the same order, without
    /// collecting them; stops as soon as `f` returns `Break` (and returns `Break`).
    pub fn visit<'a>(
        &self,
        data: &'a Value,
        f: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        match &self.kind {
            Kind::Whole => visit_as_array(data, f),
            Kind::Simple(parts) => match get_parts(data, parts.iter().map(String::as_str)) {
                Some(v) => visit_as_array(v, f),
                None => ControlFlow::Continue(()),
            },
            Kind::Tokens(tokens) if tokens.len() > MAX_RECURSIVE_TOKENS => {
                extract_levels(data, tokens).into_iter().try_for_each(f)
            }
            Kind::Tokens(tokens) => {
                let mut bufs = vec![Vec::with_capacity(CHUNK); tokens.len()];
                visit_chunked(&[data], tokens, &mut bufs, f)
            }
        }
    }

    /// Calls `f` on every value the path selects, mutably. Scalars reached through the PHP
    /// array cast are not visited (there is nothing to write back to).
    pub fn for_each_mut(&self, data: &mut Value, f: &mut dyn FnMut(&mut Value)) {
        match &self.kind {
            Kind::Whole => f(data),
            Kind::Simple(parts) => {
                let mut cur = data;
                for p in parts {
                    match php_index_mut(cur, p) {
                        Some(next) if !next.is_null() => cur = next,
                        _ => return,
                    }
                }
                f(cur);
            }
            Kind::Tokens(tokens) => walk_mut(data, tokens, f),
        }
    }
}

fn walk_mut(v: &mut Value, tokens: &[Token], f: &mut dyn FnMut(&mut Value)) {
    let Some((token, rest)) = tokens.split_first() else {
        f(v);
        return;
    };
    let visit = |child: &mut Value, f: &mut dyn FnMut(&mut Value)| {
        if token.passes(child) {
            walk_mut(child, rest, f);
        }
    };
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if token.key.matches(php_key(k)) {
                    visit(child, f);
                }
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter_mut().enumerate() {
                if token.key.matches(PhpKey::Int(i as i64)) {
                    visit(child, f);
                }
            }
        }
        _ => {}
    }
}

fn get_parts<'a, 'p>(
    data: &'a Value,
    parts: impl IntoIterator<Item = &'p str>,
) -> Option<&'a Value> {
    if php::empty(data) || !matches!(data, Value::Array(_) | Value::Object(_)) {
        return None;
    }
    let mut cur = data;
    for key in parts {
        match php_index(cur, key) {
            Some(v) if !v.is_null() => cur = v,
            _ => return None,
        }
    }
    Some(cur)
}

/// `Hash::get`: the single value at a dotted path (no wildcards, no conditions), or `None`
/// when any step is missing or `null`.
pub fn get<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    get_parts(data, path.split('.'))
}

/// Compiled paths shared by every run of an engine, keyed by path text, so that a node's paths
/// are parsed once. Bounded: the map is cleared when it outgrows [`PathCache::CAPACITY`] (paths
/// rendered from Jinja templates may vary per run).
#[derive(Debug, Default)]
pub struct PathCache {
    inner: Mutex<HashMap<String, Arc<HashPath>>>,
}

impl PathCache {
    /// Most paths kept before the cache starts over.
    pub const CAPACITY: usize = 4096;

    /// The compiled form of `path`, parsing it on first use.
    pub fn get(&self, path: &str) -> Result<Arc<HashPath>, PathError> {
        if let Ok(map) = self.inner.lock() {
            if let Some(p) = map.get(path) {
                return Ok(p.clone());
            }
        }
        let compiled = Arc::new(HashPath::parse(path)?);
        if let Ok(mut map) = self.inner.lock() {
            if map.len() >= Self::CAPACITY {
                map.clear();
            }
            map.insert(path.to_owned(), compiled.clone());
        }
        Ok(compiled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ex(data: &Value, path: &str) -> Vec<Value> {
        HashPath::parse(path)
            .expect("valid path")
            .extract(data)
            .into_iter()
            .cloned()
            .collect()
    }

    fn users() -> Value {
        json!([
            {"User": {"id": "1", "name": "paul", "active": true, "score": 10}},
            {"User": {"id": "2", "name": "mark", "active": false, "score": "9", "tags": null}},
            {"User": {"id": "3", "name": "Paula", "active": true, "score": 30, "tags": ["x"]}}
        ])
    }

    #[test]
    fn s8_1_empty_path_is_whole_input() {
        assert_eq!(ex(&json!({"a": 1, "b": 2}), ""), vec![json!(1), json!(2)]);
    }

    #[test]
    fn s8_1_plain_path_list_scalar_missing() {
        let d = json!({"Event": {"info": "x", "Tag": [{"name": "a"}], "n": null}});
        assert_eq!(ex(&d, "Event.info"), vec![json!("x")]);
        assert_eq!(ex(&d, "Event.Tag"), vec![json!({"name": "a"})]);
        assert!(ex(&d, "Event.missing").is_empty());
        assert!(ex(&d, "Event.n").is_empty());
        assert_eq!(ex(&d, "Event.Tag.0.name"), vec![json!("a")]);
    }

    #[test]
    fn s8_1_wildcards_n_s_star() {
        let d = json!({"a": {"0": "zero", "x": "ex", "1.5": "num"}, "l": ["p", "q"]});
        assert_eq!(ex(&d, "a.{n}"), vec![json!("zero"), json!("num")]);
        assert_eq!(ex(&d, "a.{s}"), vec![json!("ex"), json!("num")]);
        assert_eq!(ex(&d, "a.{*}").len(), 3);
        assert_eq!(ex(&d, "l.{n}"), vec![json!("p"), json!("q")]);
        assert!(ex(&d, "l.{s}").is_empty());
        assert_eq!(
            ex(&users(), "{n}.User.name"),
            vec![json!("paul"), json!("mark"), json!("Paula")]
        );
    }

    #[test]
    fn s8_1_scalar_is_cast_to_array() {
        assert_eq!(ex(&json!({"a": "x"}), "a.{n}"), vec![json!("x")]);
        // A plain path is `Hash::get`, which does not cast scalars.
        assert!(ex(&json!({"a": "x"}), "a.0").is_empty());
        assert!(ex(&json!({"a": null}), "a.{n}").is_empty());
    }

    #[test]
    fn s8_1_presence_condition_requires_non_null() {
        assert_eq!(ex(&users(), "{n}.User[tags].id"), vec![json!("3")]);
    }

    #[test]
    fn s8_1_equality_and_inequality_are_loose() {
        assert_eq!(ex(&users(), "{n}.User[id=2].name"), vec![json!("mark")]);
        assert_eq!(ex(&users(), "{n}.User[score=10].name"), vec![json!("paul")]);
        assert_eq!(
            ex(&users(), "{n}.User[id!=2].name"),
            vec![json!("paul"), json!("Paula")]
        );
        assert_eq!(ex(&users(), "{n}.User[id=02].name"), vec![json!("mark")]);
    }

    #[test]
    fn s8_1_comparisons() {
        assert_eq!(
            ex(&users(), "{n}.User[score>9].id"),
            vec![json!("1"), json!("3")]
        );
        assert_eq!(
            ex(&users(), "{n}.User[score>=10].id"),
            vec![json!("1"), json!("3")]
        );
        assert_eq!(ex(&users(), "{n}.User[score<10].id"), vec![json!("2")]);
        assert_eq!(
            ex(&users(), "{n}.User[score<=10].id"),
            vec![json!("1"), json!("2")]
        );
    }

    #[test]
    fn s8_1_booleans_compare_as_1_0_or_true_false() {
        assert_eq!(
            ex(&users(), "{n}.User[active=1].id"),
            vec![json!("1"), json!("3")]
        );
        assert_eq!(ex(&users(), "{n}.User[active=false].id"), vec![json!("2")]);
    }

    #[test]
    fn s8_1_regex_with_flags() {
        assert_eq!(ex(&users(), "{n}.User[name=/^paul/].id"), vec![json!("1")]);
        assert_eq!(
            ex(&users(), "{n}.User[name=/^paul/i].id"),
            vec![json!("1"), json!("3")]
        );
        assert_eq!(
            ex(&users(), "{n}.User[name=/^[pm]a/].id"),
            vec![json!("1"), json!("2")]
        );
    }

    #[test]
    fn s8_1_chained_conditions_are_and() {
        assert_eq!(
            ex(&users(), "{n}.User[active=1][score>20].name"),
            vec![json!("Paula")]
        );
    }

    #[test]
    fn s8_1_dots_inside_brackets_do_not_split() {
        let d = json!({"l": [{"v": "1.2.3.4", "n": "a"}, {"v": "5.6.7.8", "n": "b"}]});
        assert_eq!(ex(&d, "l.{n}[v=5.6.7.8].n"), vec![json!("b")]);
    }

    #[test]
    fn s8_1_blueprint_path_from_fixture() {
        let d = json!({"Event": {"_AttributeFlattened": [{"enrichment": [{"Object": [{"name": "abuseipdb",
            "Attribute": [{"object_relation": "is-malicious", "value": "1"}, {"object_relation": "x", "value": "2"}]}]}]}]}});
        let p = "Event._AttributeFlattened.{n}.enrichment.{n}.Object.{n}[name=abuseipdb].Attribute.{n}[object_relation=is-malicious].value";
        assert_eq!(ex(&d, p), vec![json!("1")]);
    }

    #[test]
    fn s8_1_malformed_paths_are_typed_errors() {
        assert!(matches!(
            HashPath::parse("a.{n}[x=1"),
            Err(PathError::Unclosed { position: 5, .. })
        ));
        assert!(matches!(
            HashPath::parse("a.b]"),
            Err(PathError::UnexpectedClose { position: 3, .. })
        ));
        assert!(matches!(
            HashPath::parse("a[x=]"),
            Err(PathError::BadCondition { .. })
        ));
        assert!(matches!(
            HashPath::parse("a[]"),
            Err(PathError::BadCondition { .. })
        ));
        assert!(matches!(
            HashPath::parse("a[x]junk"),
            Err(PathError::BadCondition { position: 4, .. })
        ));
        assert!(matches!(
            HashPath::parse("a[x=/(/]"),
            Err(PathError::BadRegex { .. })
        ));
    }

    #[test]
    fn s8_1_get_single_value() {
        let d = json!({"Event": {"Attribute": [{"value": "v"}], "z": null}});
        assert_eq!(get(&d, "Event.Attribute.0.value"), Some(&json!("v")));
        assert_eq!(get(&d, "Event.z"), None);
        assert_eq!(get(&d, "Event.nope"), None);
        assert_eq!(get(&json!({}), "a"), None);
    }

    /// §8.1: `visit` yields what `extract` returns, in order (also for paths longer than the
    /// recursion limit), and stops at the first `Break`.
    #[test]
    fn s8_1_visit_matches_extract_and_stops_early() {
        let long = vec!["{n}"; MAX_RECURSIVE_TOKENS + 5].join(".");
        let paths = [
            "",
            "{n}.User.name",
            "{n}.User[id!=2].name",
            "{n}.{s}.{*}",
            "{*}.User[score>9]",
            "0.User.name",
            "{n}.User.tags.{n}",
            long.as_str(),
        ];
        for data in [users(), json!("x"), json!({"a": [1, {"b": null}]})] {
            for path in paths {
                let p = HashPath::parse(path).expect("valid");
                let want = p.extract(&data);
                let mut got = Vec::new();
                let flow = p.visit(&data, &mut |v| {
                    got.push(v);
                    ControlFlow::Continue(())
                });
                assert_eq!(flow, ControlFlow::Continue(()));
                assert_eq!(got.len(), want.len(), "{path}");
                assert!(
                    got.iter().zip(&want).all(|(a, b)| std::ptr::eq(*a, *b)),
                    "{path}"
                );
                let mut first = None;
                let _ = p.visit(&data, &mut |v| {
                    first = Some(v);
                    ControlFlow::Break(())
                });
                assert_eq!(
                    first.map(|v| v as *const Value),
                    want.first().map(|v| *v as *const Value)
                );
            }
        }
        let many: Value = (0..100).map(|i| json!({"t": [{"name": i}]})).collect();
        let p = HashPath::parse("{n}.t.{n}.name").expect("valid");
        let mut got = Vec::new();
        let _ = p.visit(&many, &mut |v| {
            got.push(v.clone());
            ControlFlow::Continue(())
        });
        assert_eq!(got, (0..100).map(|i| json!(i)).collect::<Vec<_>>());
    }

    #[test]
    fn for_each_mut_visits_selected_values() {
        let mut d = json!({"l": [{"t": "a"}, {"t": "b"}]});
        let p = HashPath::parse("l.{n}[t=b]").expect("valid");
        p.for_each_mut(&mut d, &mut |v| v["seen"] = json!(true));
        assert_eq!(d, json!({"l": [{"t": "a"}, {"t": "b", "seen": true}]}));
    }
}
