//! Operators (spec §8.3), node filtering conditions (`saved_filters`, §8.2) and path filters
//! (`generic-filter-data` / `generic-filter-reset`, §8.4).

use std::ops::ControlFlow;

use serde_json::{Map, Value};

use crate::graph::Node;
use crate::hashpath::{HashPath, PathCache, PathError};
use crate::php;

/// A condition operator as stored in params and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// Extracted list contains the value.
    In,
    /// Extracted list does not contain the value.
    NotIn,
    /// Scalar loose equality.
    Equals,
    /// Scalar loose inequality.
    NotEquals,
    /// Something was extracted.
    AnyValue,
    /// Lists intersect.
    InOr,
    /// Every value is present.
    InAnd,
    /// Lists do not intersect.
    NotInOr,
    /// Not every value is present.
    NotInAnd,
    /// Unknown operator: always false.
    Other,
}

impl Operator {
    /// Parses MISP's operator id; unknown ids give [`Operator::Other`].
    pub fn parse(s: &str) -> Operator {
        match s {
            "in" => Operator::In,
            "not_in" => Operator::NotIn,
            "equals" => Operator::Equals,
            "not_equals" => Operator::NotEquals,
            "any_value" => Operator::AnyValue,
            "in_or" => Operator::InOr,
            "in_and" => Operator::InAnd,
            "not_in_or" => Operator::NotInOr,
            "not_in_and" => Operator::NotInAnd,
            _ => Operator::Other,
        }
    }

    /// True for operators that compare one scalar (`equals`, `not_equals`).
    pub fn is_scalar(self) -> bool {
        matches!(self, Operator::Equals | Operator::NotEquals)
    }
}

/// What an operator is applied to: an extracted list, or one value (`None` = nothing found).
#[derive(Debug, Clone)]
pub enum Subject<'a> {
    /// `Hash::extract` result.
    List(Vec<&'a Value>),
    /// `Hash::get` result or the first extracted value.
    Scalar(Option<&'a Value>),
}

/// The values of a multi-select param: a list, or a plain string (MISP stores both, §4).
pub fn value_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => o.values().collect(),
        Value::String(s) if s.is_empty() => Vec::new(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// `evaluateCondition` (spec §8.3).
///
/// Deviation: `in_and` means "every value is present" (set semantics) as the spec states; MISP
/// compares the sorted multiset of matches with the values, which fails as soon as a tag appears
/// on two attributes.
pub fn evaluate(subject: &Subject<'_>, op: Operator, value: &Value) -> bool {
    match (op, subject) {
        (Operator::In, Subject::List(l)) => php::in_array(value, l.iter().copied()),
        (Operator::NotIn, Subject::List(l)) => !php::in_array(value, l.iter().copied()),
        (Operator::In | Operator::NotIn, Subject::Scalar(_)) => false,
        (Operator::Equals, Subject::Scalar(Some(v))) => !is_array(v) && php::loose_eq(v, value),
        (Operator::NotEquals, Subject::Scalar(Some(v))) => !is_array(v) && !php::loose_eq(v, value),
        (Operator::Equals | Operator::NotEquals, _) => false,
        (Operator::AnyValue, Subject::List(l)) => !l.is_empty(),
        (Operator::AnyValue, Subject::Scalar(v)) => v.is_some_and(|v| !php::empty(v)),
        (
            Operator::InOr | Operator::InAnd | Operator::NotInOr | Operator::NotInAnd,
            Subject::List(l),
        ) => {
            let wanted = value_list(value);
            if !matches!(value, Value::Array(_) | Value::Object(_) | Value::String(_)) {
                return false;
            }
            let any = || {
                l.iter()
                    .any(|item| php::in_array(item, wanted.iter().copied()))
            };
            let all =
                || !wanted.is_empty() && wanted.iter().all(|w| php::in_array(w, l.iter().copied()));
            match op {
                Operator::InOr => any(),
                Operator::NotInOr => !any(),
                Operator::InAnd => all(),
                _ => !all(),
            }
        }
        (
            Operator::InOr | Operator::InAnd | Operator::NotInOr | Operator::NotInAnd,
            Subject::Scalar(_),
        ) => false,
        (Operator::Other, _) => false,
    }
}

/// Hands each value to the visitor it is given (e.g. [`HashPath::visit`]), stopping when the
/// visitor breaks.
pub type Producer<'v, 'p> = dyn FnMut(&mut dyn FnMut(&'v Value) -> ControlFlow<()>) + 'p;

/// [`evaluate`] over values produced one by one (a hash path visit), stopping the producer as
/// soon as the answer is known. Same result as collecting the values into [`Subject::List`].
pub fn evaluate_each<'v>(op: Operator, value: &Value, produce: &mut Producer<'v, '_>) -> bool {
    if !matches!(
        op,
        Operator::InOr | Operator::InAnd | Operator::NotInOr | Operator::NotInAnd
    ) {
        let mut list = Vec::new();
        produce(&mut |v| {
            list.push(v);
            ControlFlow::Continue(())
        });
        return evaluate(&Subject::List(list), op, value);
    }
    if !matches!(value, Value::Array(_) | Value::Object(_) | Value::String(_)) {
        return false;
    }
    let wanted = value_list(value);
    // A non-numeric string equals (loosely) only the identical string: compare those directly
    // instead of going through PHP's numeric-string rules for every item.
    let plain: Vec<Option<&str>> = wanted
        .iter()
        .map(|w| w.as_str().filter(|s| php::parse_numeric(s).is_none()))
        .collect();
    let all_plain: Option<Vec<&str>> = plain.iter().copied().collect();
    match op {
        Operator::InOr | Operator::NotInOr => {
            let mut any = false;
            produce(&mut |item| {
                let found = match (item, &all_plain) {
                    (Value::String(x), Some(p)) => p.contains(&x.as_str()),
                    _ => php::in_array(item, wanted.iter().copied()),
                };
                if found {
                    any = true;
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
            any == (op == Operator::InOr)
        }
        _ => {
            let mut left = wanted.len();
            if left > 0 {
                let mut found = vec![false; wanted.len()];
                produce(&mut |item| {
                    for ((seen, w), p) in found.iter_mut().zip(&wanted).zip(&plain) {
                        if *seen {
                            continue;
                        }
                        let hit = match (item, p) {
                            (Value::String(x), Some(p)) => x.as_str() == *p,
                            _ => php::in_array(w, std::iter::once(item)),
                        };
                        if hit {
                            *seen = true;
                            left -= 1;
                        }
                    }
                    if left == 0 {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                });
            }
            let all = !wanted.is_empty() && left == 0;
            all == (op == Operator::InAnd)
        }
    }
}

/// Hands each string to the visitor it is given, stopping when the visitor breaks.
pub type StrProducer<'p> = dyn FnMut(&mut dyn FnMut(&str) -> ControlFlow<()>) + 'p;

/// [`evaluate_each`] over strings (tag names read from an [`crate::EventSource`] index): the
/// same answer as producing each as a `Value::String`. The `in`/`not_in` operators with plain
/// wanted strings compare the strings directly; anything else goes through [`evaluate_each`].
pub fn evaluate_each_str(op: Operator, value: &Value, produce: &mut StrProducer<'_>) -> bool {
    let set_operator = matches!(
        op,
        Operator::InOr | Operator::InAnd | Operator::NotInOr | Operator::NotInAnd
    );
    let plain: Option<Vec<&str>> = (set_operator
        && matches!(value, Value::Array(_) | Value::Object(_) | Value::String(_)))
    .then(|| {
        value_list(value)
            .into_iter()
            .map(|w| w.as_str().filter(|s| php::parse_numeric(s).is_none()))
            .collect()
    })
    .flatten();
    let Some(plain) = plain else {
        let mut items = Vec::new();
        produce(&mut |s| {
            items.push(Value::String(s.to_owned()));
            ControlFlow::Continue(())
        });
        return evaluate_each(op, value, &mut |f| {
            let _ = items.iter().try_for_each(&mut *f);
        });
    };
    match op {
        Operator::InOr | Operator::NotInOr => {
            let mut any = false;
            produce(&mut |x| {
                if plain.contains(&x) {
                    any = true;
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
            any == (op == Operator::InOr)
        }
        _ => {
            let mut left = plain.len();
            if left > 0 {
                let mut found = vec![false; plain.len()];
                produce(&mut |x| {
                    for (seen, p) in found.iter_mut().zip(&plain) {
                        if !*seen && *p == x {
                            *seen = true;
                            left -= 1;
                        }
                    }
                    if left == 0 {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                });
            }
            let all = !plain.is_empty() && left == 0;
            all == (op == Operator::InAnd)
        }
    }
}

fn is_array(v: &Value) -> bool {
    matches!(v, Value::Array(_) | Value::Object(_))
}

/// `getItemsMatchingCondition`: does `item` pass `path`/`operator`/`value`? (spec §8.2)
pub fn item_matches(item: &Value, path: &HashPath, op: Operator, value: &Value) -> bool {
    let extracted = path.extract(item);
    if op == Operator::AnyValue {
        return !extracted.is_empty();
    }
    let subject = if op.is_scalar() {
        match extracted.first() {
            Some(v) => Subject::Scalar(Some(v)),
            None => Subject::List(Vec::new()),
        }
    } else {
        Subject::List(extracted)
    };
    evaluate(&subject, op, value)
}

/// A node's filtering conditions (`saved_filters`: selector, value, operator, path).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeFilters {
    /// Hash path selecting the candidate items.
    pub selector: String,
    /// Value compared with.
    pub value: Value,
    /// Operator id.
    pub operator: String,
    /// Hash path inside each item.
    pub path: String,
}

impl NodeFilters {
    /// Reads `saved_filters` in either form; missing keys are `""`.
    pub fn of(node: &Node) -> NodeFilters {
        let get = |k: &str| node.saved_filters.as_ref().and_then(|f| f.get(k)).cloned();
        let text = |k: &str| match get(k) {
            Some(Value::String(s)) => s,
            Some(Value::Null) | None => String::new(),
            Some(other) => php::to_php_string(&other).unwrap_or_default(),
        };
        NodeFilters {
            selector: text("selector"),
            value: get("value").unwrap_or(Value::String(String::new())),
            operator: text("operator"),
            path: text("path"),
        }
    }

    /// Active when any field is non-empty (`$v != ''`).
    pub fn enabled(&self) -> bool {
        !self.selector.is_empty()
            || !self.operator.is_empty()
            || !self.path.is_empty()
            || !php::loose_eq(&self.value, &Value::String(String::new()))
    }

    /// The items the filters keep (spec §8.2): `extract(data, selector)` narrowed by
    /// `path`/`operator`/`value`. Errors when a path is malformed.
    pub fn matching<'a>(
        &self,
        data: &'a Value,
        cache: &PathCache,
    ) -> Result<Vec<&'a Value>, PathError> {
        let selector = cache.get(&self.selector)?;
        let path = cache.get(&self.path)?;
        let op = Operator::parse(&self.operator);
        Ok(selector
            .extract(data)
            .into_iter()
            .filter(|item| item_matches(item, &path, op, &self.value))
            .collect())
    }
}

/// Top-level key holding the active path filters.
pub const ENABLED_FILTERS: &str = "enabledFilters";
/// Top-level key holding the snapshot taken by the first path filter.
pub const UNFILTERED_DATA: &str = "_unfilteredData";

/// True when `data` carries at least one active path filter.
pub fn has_path_filters(data: &Value) -> bool {
    data.get(ENABLED_FILTERS)
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty())
}

/// Registers a path filter under `label` (spec §8.4, `generic-filter-data`): the first filter
/// snapshots the data into `_unfilteredData`.
pub fn add_path_filter(data: &mut Value, label: &str, filter: Map<String, Value>) {
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    let Value::Object(root) = data else { return };
    let needs_snapshot = root.get(UNFILTERED_DATA).is_none_or(php::empty);
    if needs_snapshot {
        let snapshot = Value::Object(root.clone());
        root.insert(UNFILTERED_DATA.into(), snapshot);
    }
    let filters = root
        .entry(ENABLED_FILTERS)
        .or_insert_with(|| Value::Object(Map::new()));
    if !filters.is_object() {
        *filters = Value::Object(Map::new());
    }
    if let Value::Object(f) = filters {
        f.insert(label.to_owned(), Value::Object(filter));
    }
}

/// Removes path filter `label` (or every filter for `all`) and restores the snapshot
/// (spec §8.4, §17: changes made after the first filter are discarded, as in MISP).
pub fn reset_path_filter(data: &mut Value, label: &str) {
    let Value::Object(root) = data else { return };
    let mut remaining = match root.get(ENABLED_FILTERS) {
        Some(Value::Object(f)) => f.clone(),
        _ => Map::new(),
    };
    if label == "all" {
        remaining.clear();
    } else {
        remaining.shift_remove(label);
    }
    let snapshot = match root.get(UNFILTERED_DATA) {
        Some(Value::Object(s)) => Some(s.clone()),
        _ => None,
    };
    let mut restored = snapshot.unwrap_or_else(|| root.clone());
    restored.shift_remove(ENABLED_FILTERS);
    restored.shift_remove(UNFILTERED_DATA);
    if !remaining.is_empty() {
        let snap = Value::Object(restored.clone());
        restored.insert(UNFILTERED_DATA.into(), snap);
        restored.insert(ENABLED_FILTERS.into(), Value::Object(remaining));
    }
    *root = restored;
}

/// Applies every active path filter to `data` (spec §8.4): for each filter, the list at the
/// selector (trailing `.{n}` stripped) keeps only its matching elements.
///
/// Deviation: a thinned list stays a JSON list (re-indexed); MISP keeps the PHP keys, so a list
/// with gaps serialises as an object there. `{n}` paths select the same items either way.
pub fn apply_path_filters(data: &mut Value, cache: &PathCache) -> Result<(), PathError> {
    let filters = match data.get(ENABLED_FILTERS) {
        Some(Value::Object(f)) if !f.is_empty() => f.clone(),
        _ => return Ok(()),
    };
    for (_label, f) in filters {
        let text = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let selector = text("selector");
        if selector.is_empty() {
            continue;
        }
        let base = selector
            .strip_suffix(".{n}")
            .unwrap_or(&selector)
            .to_owned();
        let base_path = cache.get(&base)?;
        let path = cache.get(&text("path"))?;
        let op = Operator::parse(&text("operator"));
        let value = f
            .get("value")
            .cloned()
            .unwrap_or(Value::String(String::new()));
        base_path.for_each_mut(data, &mut |list| match list {
            Value::Array(items) => items.retain(|item| item_matches(item, &path, op, &value)),
            Value::Object(items) => {
                items.retain(|k, item| !php::is_numeric(k) || item_matches(item, &path, op, &value))
            }
            _ => {}
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(v: &[Value]) -> Subject<'_> {
        Subject::List(v.iter().collect())
    }

    #[test]
    fn s8_3_in_and_not_in() {
        let l = [json!("a"), json!("1")];
        assert!(evaluate(&list(&l), Operator::In, &json!("a")));
        assert!(evaluate(&list(&l), Operator::In, &json!("01")));
        assert!(!evaluate(&list(&l), Operator::NotIn, &json!("a")));
        assert!(evaluate(&list(&l), Operator::NotIn, &json!("b")));
        assert!(!evaluate(
            &Subject::Scalar(Some(&json!("a"))),
            Operator::In,
            &json!("a")
        ));
    }

    #[test]
    fn s8_3_equals_and_not_equals_are_scalar_loose() {
        assert!(evaluate(
            &Subject::Scalar(Some(&json!("10"))),
            Operator::Equals,
            &json!("1e1")
        ));
        assert!(evaluate(
            &Subject::Scalar(Some(&json!("x"))),
            Operator::NotEquals,
            &json!("y")
        ));
        assert!(!evaluate(
            &Subject::Scalar(Some(&json!(["x"]))),
            Operator::Equals,
            &json!("x")
        ));
        assert!(!evaluate(
            &Subject::Scalar(None),
            Operator::NotEquals,
            &json!("x")
        ));
    }

    #[test]
    fn s8_3_any_value() {
        assert!(evaluate(
            &list(&[json!("x")]),
            Operator::AnyValue,
            &json!("")
        ));
        assert!(!evaluate(&list(&[]), Operator::AnyValue, &json!("")));
    }

    #[test]
    fn s8_3_list_operators() {
        let l = [json!("a"), json!("b")];
        assert!(evaluate(&list(&l), Operator::InOr, &json!(["b", "z"])));
        assert!(!evaluate(&list(&l), Operator::InOr, &json!(["z"])));
        assert!(evaluate(&list(&l), Operator::InAnd, &json!(["a", "b"])));
        assert!(!evaluate(&list(&l), Operator::InAnd, &json!(["a", "z"])));
        assert!(evaluate(&list(&l), Operator::NotInOr, &json!(["z"])));
        assert!(evaluate(&list(&l), Operator::NotInAnd, &json!(["a", "z"])));
        assert!(!evaluate(&list(&l), Operator::NotInAnd, &json!(["a"])));
        // A plain string counts as a one-element selection (§4).
        assert!(evaluate(&list(&l), Operator::InOr, &json!("a")));
    }

    /// §8.3: the streaming evaluation gives `evaluate`'s answer for every operator.
    #[test]
    fn s8_3_evaluate_each_equals_evaluate() {
        let lists = [
            json!([]),
            json!(["a", "b", "1"]),
            json!(["01", 2, null, true]),
            json!(["a", "a"]),
        ];
        let values = [
            json!("a"),
            json!(["a", "b"]),
            json!(["1"]),
            json!(["1.0", "b", " 2"]),
            json!(["true", "01"]),
            json!([]),
            json!(""),
            json!({"x": "b"}),
            json!(1),
            json!(null),
        ];
        let ops = [
            "in",
            "not_in",
            "equals",
            "not_equals",
            "any_value",
            "in_or",
            "in_and",
            "not_in_or",
            "not_in_and",
            "nope",
        ];
        for list in &lists {
            let items: Vec<&Value> = list
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            for value in &values {
                for op in ops {
                    let op = Operator::parse(op);
                    let want = evaluate(&Subject::List(items.clone()), op, value);
                    let got = evaluate_each(op, value, &mut |f| {
                        let _ = items.iter().try_for_each(|v| f(v));
                    });
                    assert_eq!(got, want, "{op:?} {list} {value}");
                }
            }
        }
    }

    #[test]
    fn s8_3_unknown_operator_is_false() {
        assert!(!evaluate(
            &list(&[json!("a")]),
            Operator::parse("bogus"),
            &json!("a")
        ));
    }

    #[test]
    fn s8_2_saved_filters_keep_matching_items() {
        let data = json!({"Event": {"_AttributeFlattened": [
            {"type": "comment", "value": "c"}, {"type": "ip-src", "value": "1.2.3.4"}, {"value": "none"}]}});
        let mut node = Node::new(crate::graph::NodeId(1), "x");
        node.saved_filters = Some(crate::graph::KeyedValues::from_value(&json!({
            "selector": "Event._AttributeFlattened.{n}", "value": "comment", "operator": "equals", "path": "type"})));
        let f = NodeFilters::of(&node);
        assert!(f.enabled());
        let cache = PathCache::default();
        let kept = f.matching(&data, &cache).expect("paths");
        assert_eq!(kept, vec![&json!({"type": "comment", "value": "c"})]);
        let not = NodeFilters {
            operator: "not_equals".into(),
            ..f.clone()
        };
        // An item without the path is dropped by not_equals too (MISP compares `[]`).
        assert_eq!(not.matching(&data, &cache).expect("paths").len(), 1);
    }

    #[test]
    fn s8_2_list_form_and_empty_filters() {
        let mut node = Node::new(crate::graph::NodeId(1), "x");
        node.saved_filters = Some(crate::graph::KeyedValues::from_value(&json!([
            {"text": "selector", "value": ""}, {"text": "value", "value": ""},
            {"text": "operator", "value": ""}, {"text": "path", "value": ""}])));
        assert!(!NodeFilters::of(&node).enabled());
    }

    #[test]
    fn s8_4_filter_snapshot_apply_and_reset() {
        let cache = PathCache::default();
        let mut data = json!({"Event": {
            "Attribute": [{"type": "ip-src"}, {"type": "md5"}],
            "_AttributeFlattened": [{"type": "ip-src"}, {"type": "md5"}]}});
        let original = data.clone();
        let mut f = Map::new();
        f.insert("selector".into(), json!("Event._AttributeFlattened.{n}"));
        f.insert("path".into(), json!("type"));
        f.insert("operator".into(), json!("in_or"));
        f.insert("value".into(), json!(["md5"]));
        add_path_filter(&mut data, "A", f);
        assert_eq!(data[UNFILTERED_DATA], original);
        let mut view = data.clone();
        apply_path_filters(&mut view, &cache).expect("paths");
        assert_eq!(
            view["Event"]["_AttributeFlattened"],
            json!([{"type": "md5"}])
        );
        // Filtering `_AttributeFlattened` leaves `Event.Attribute` intact.
        assert_eq!(view["Event"]["Attribute"], original["Event"]["Attribute"]);
        // A second filter keeps the first snapshot.
        let mut g = Map::new();
        g.insert("selector".into(), json!("Event.Attribute.{n}"));
        g.insert("path".into(), json!("type"));
        g.insert("operator".into(), json!("equals"));
        g.insert("value".into(), json!("ip-src"));
        add_path_filter(&mut data, "B", g);
        assert_eq!(data[UNFILTERED_DATA], original);
        reset_path_filter(&mut data, "A");
        assert_eq!(data[ENABLED_FILTERS].as_object().map(|m| m.len()), Some(1));
        assert!(data[ENABLED_FILTERS].get("B").is_some());
        reset_path_filter(&mut data, "all");
        assert_eq!(data, original);
    }
}
