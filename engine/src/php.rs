//! PHP 8 loose comparison (`==`, `<`, `in_array`) over JSON values.
//!
//! MISP's modules and CakePHP's `Hash` compare with PHP's loose rules, so `"1" == "01"`,
//! `100 == "1e2"` and `null == ""` hold. Every comparison in the engine that mirrors a PHP `==`
//! goes through here so the rules live in one place.

use std::cmp::Ordering;

use serde_json::Value;

/// True when `s` is a PHP 8 numeric string (`is_numeric`): optional surrounding whitespace,
/// optional sign, decimal digits with an optional fraction and exponent.
pub fn is_numeric(s: &str) -> bool {
    parse_numeric(s).is_some()
}

/// The value of a PHP numeric string, or `None` when `s` is not numeric.
pub fn parse_numeric(s: &str) -> Option<Num> {
    // A numeric string starts with whitespace, a sign, a digit or `.`; most strings compared
    // in workflows (tag names, types, uuids) fail here, before any trimming.
    if !matches!(
        s.as_bytes().first(),
        Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' | b'+' | b'-' | b'.' | b'0'..=b'9')
    ) {
        return None;
    }
    let t = s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'));
    if t.is_empty() {
        return None;
    }
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    let mut is_float = false;
    if i < b.len() && b[i] == b'.' {
        is_float = true;
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - fs;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let save = i;
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let es = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            i = save;
        } else {
            is_float = true;
        }
    }
    if i != b.len() {
        return None;
    }
    if !is_float {
        if let Ok(n) = t.parse::<i64>() {
            return Some(Num::Int(n));
        }
    }
    t.parse::<f64>().ok().map(Num::Float)
}

/// A PHP number: `int` or `float`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// PHP `int`.
    Int(i64),
    /// PHP `float`.
    Float(f64),
}

impl Num {
    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    fn cmp(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }
}

fn json_num(n: &serde_json::Number) -> Num {
    if let Some(i) = n.as_i64() {
        Num::Int(i)
    } else {
        Num::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// PHP's string form of a number (`(string)$n`).
pub fn num_to_string(n: Num) -> String {
    match n {
        Num::Int(i) => i.to_string(),
        Num::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 => {
            format!("{}", f as i64)
        }
        Num::Float(f) => format!("{f}"),
    }
}

/// PHP truthiness (`(bool)$v`): `null`, `false`, `0`, `0.0`, `""`, `"0"` and empty arrays are false.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => json_num(n).as_f64() != 0.0,
        Value::String(s) => !(s.is_empty() || s == "0"),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// PHP `empty($v)`: the negation of truthiness.
pub fn empty(v: &Value) -> bool {
    !truthy(v)
}

/// PHP's string conversion of a scalar (`strval`); arrays give `None`.
pub fn to_php_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::Bool(true) => Some("1".into()),
        Value::Bool(false) => Some(String::new()),
        Value::Number(n) => Some(num_to_string(json_num(n))),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn cmp_str_str(a: &str, b: &str) -> Ordering {
    match (parse_numeric(a), parse_numeric(b)) {
        (Some(x), Some(y)) => x.cmp(y).unwrap_or(Ordering::Less),
        _ => a.as_bytes().cmp(b.as_bytes()),
    }
}

fn cmp_num_str(n: Num, s: &str) -> Ordering {
    match parse_numeric(s) {
        Some(m) => n.cmp(m).unwrap_or(Ordering::Less),
        None => num_to_string(n).as_bytes().cmp(s.as_bytes()),
    }
}

fn is_array(v: &Value) -> bool {
    matches!(v, Value::Array(_) | Value::Object(_))
}

fn array_len(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    }
}

/// PHP 8 `$a <=> $b` for JSON values. Arrays compare by size then element-wise, and are
/// greater than any scalar, as in PHP.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    use Value::*;
    match (a, b) {
        (Bool(_), _) | (_, Bool(_)) | (Null, Number(_)) | (Number(_), Null) => {
            truthy(a).cmp(&truthy(b))
        }
        (Null, Null) => Ordering::Equal,
        (Null, String(s)) => cmp_str_str("", s),
        (String(s), Null) => cmp_str_str(s, ""),
        (Null, _) => truthy(a).cmp(&truthy(b)),
        (_, Null) => truthy(a).cmp(&truthy(b)),
        (Number(x), Number(y)) => json_num(x).cmp(json_num(y)).unwrap_or(Ordering::Less),
        (Number(x), String(s)) => cmp_num_str(json_num(x), s),
        (String(s), Number(y)) => cmp_num_str(json_num(y), s).reverse(),
        (String(x), String(y)) => cmp_str_str(x, y),
        (x, y) if is_array(x) && is_array(y) => {
            let (lx, ly) = (array_len(x), array_len(y));
            if lx != ly {
                return lx.cmp(&ly);
            }
            if loose_eq(x, y) {
                Ordering::Equal
            } else {
                Ordering::Less
            }
        }
        (x, _) if is_array(x) => Ordering::Greater,
        _ => Ordering::Less,
    }
}

/// PHP 8 `$a == $b` for JSON values.
pub fn loose_eq(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (String(x), String(y)) => {
            if x == y {
                return true;
            }
            match (parse_numeric(x), parse_numeric(y)) {
                (Some(p), Some(q)) => p.cmp(q) == Some(Ordering::Equal),
                _ => false,
            }
        }
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| loose_eq(p, q)),
        (Object(x), Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| loose_eq(v, w)))
        }
        (Array(x), Object(y)) | (Object(y), Array(x)) => {
            x.len() == y.len()
                && x.iter()
                    .enumerate()
                    .all(|(i, v)| y.get(&i.to_string()).is_some_and(|w| loose_eq(v, w)))
        }
        (Array(_) | Object(_), Null) | (Null, Array(_) | Object(_)) => truthy(a) == truthy(b),
        (Array(_) | Object(_), _) | (_, Array(_) | Object(_)) => false,
        _ => compare(a, b) == Ordering::Equal,
    }
}

/// Loose equality between a JSON value and a string, the common case (`$prop == $val`) without
/// allocating a JSON string.
pub fn loose_eq_str(a: &Value, s: &str) -> bool {
    match a {
        Value::String(x) => {
            x == s
                || parse_numeric(s).is_some_and(|q| {
                    parse_numeric(x).is_some_and(|p| p.cmp(q) == Some(Ordering::Equal))
                })
        }
        Value::Array(_) | Value::Object(_) => false,
        other => loose_eq(other, &Value::String(s.to_owned())),
    }
}

/// PHP `in_array($needle, $haystack)` (loose).
pub fn in_array<'a>(needle: &Value, haystack: impl IntoIterator<Item = &'a Value>) -> bool {
    match needle {
        Value::String(s) => haystack.into_iter().any(|h| loose_eq_str(h, s)),
        _ => haystack.into_iter().any(|h| loose_eq(needle, h)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numeric_strings_follow_php8() {
        for s in ["1", " 1", "1 ", "-1.5", ".5", "1.", "1e3", "+2", "1E-2"] {
            assert!(is_numeric(s), "{s}");
        }
        for s in ["", " ", "abc", "1a", "0x1A", ".", "e3", "1e", "--1"] {
            assert!(!is_numeric(s), "{s}");
        }
    }

    #[test]
    fn loose_equality_matrix() {
        assert!(loose_eq(&json!("1"), &json!("01")));
        assert!(loose_eq(&json!("10"), &json!("1e1")));
        assert!(loose_eq(&json!(100), &json!("1e2")));
        assert!(!loose_eq(&json!("abc"), &json!(0)));
        assert!(loose_eq(&json!(null), &json!("")));
        assert!(!loose_eq(&json!(null), &json!("0")));
        assert!(loose_eq(&json!(null), &json!(0)));
        assert!(loose_eq(&json!(true), &json!("x")));
        assert!(!loose_eq(&json!(false), &json!("0.0")));
        assert!(loose_eq(&json!([1, 2]), &json!({"0": 1, "1": "2"})));
        assert!(!loose_eq(&json!([1]), &json!("1")));
        assert!(loose_eq_str(&json!(1), "1.0"));
    }

    #[test]
    fn ordering_is_numeric_for_numeric_strings() {
        assert_eq!(compare(&json!("9"), &json!("10")), Ordering::Less);
        assert_eq!(compare(&json!("b"), &json!("a")), Ordering::Greater);
        assert_eq!(compare(&json!(5), &json!("abc")), Ordering::Less);
        assert_eq!(compare(&json!([1]), &json!("zzz")), Ordering::Greater);
    }
}
