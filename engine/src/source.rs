//! Event source: a MISP event kept as the bytes it arrived in, with an index of what the
//! publish gate reads.
//!
//! [`RoamingData`](crate::RoamingData) normally holds the document as a `serde_json::Value`
//! tree. Building that tree (and dropping it) is most of the cost of a run on a large event, yet a
//! workflow such as the publish gate only reads tag names and forwards the document. For an event
//! whose core format (spec §7) is the input itself plus the workflow extras, [`EventSource::index`]
//! validates the bytes and records, in one pass and without building a tree:
//! - the name of every tag on the event and on every attribute (top level, then inside objects:
//!   MISP's `_AttributeFlattened` order), which is what `tag-if` reads;
//! - where each attribute and tag object starts and ends, so that the complete core-format
//!   document (each attribute's `_allTags`, `Event._AttributeFlattened`) can be written by copying
//!   slices of the input and inserting the extras ([`EventSource::write_complete`]).
//!
//! The tree is built from the bytes the first time anything else reads the data
//! ([`EventSource::base_value`]). Whatever the index cannot vouch for is refused, and the caller
//! takes the tree path, so the fast path never changes an answer:
//! - anything that is not valid JSON (stricter than serde_json where that is simpler: numbers
//!   must be integers of at most 18 digits, lone surrogate escapes and nesting deeper than
//!   [`MAX_DEPTH`] are refused);
//! - any document the core-format conversion would change besides adding the extras: top-level
//!   keys other than `Event`, a numeric id / timestamp / distribution (converted to a string),
//!   `user_id`, `EventTag`, `AttributeTag`, `value1` / `value2`, `_AttributeFlattened` or
//!   `_allTags` already present, a tag list that is not a list of objects;
//! - a repeated key among those the index reads (`Event`, `Attribute`, `Object`, `Tag`, `name`,
//!   `inherited`), since the tree keeps only the last one.
//!
//! The output of [`EventSource::write_complete`] parses to the same document as serialising the
//! tree does (same keys, same order, same values); whitespace and escapes inside copied slices
//! stay as the sender wrote them.

use std::borrow::Cow;
use std::ops::{ControlFlow, Range};

use bytes::Bytes;
use serde_json::Value;

use crate::core_format::stringify_key_bytes;

/// Nesting deeper than this is refused (serde_json's own limit is 128).
pub const MAX_DEPTH: u32 = 100;

/// A MISP event as received, indexed for the publish gate. See the module documentation.
#[derive(Clone)]
pub struct EventSource {
    bytes: Bytes,
    index: Index,
}

impl std::fmt::Debug for EventSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSource")
            .field("bytes", &self.bytes.len())
            .field("attributes", &self.index.attrs.len())
            .finish()
    }
}

/// Two sources are equal when their bytes are (the index follows from them).
impl PartialEq for EventSource {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

/// The bytes could not be indexed (not JSON, or not an event the index vouches for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Refused;

type Res<T> = Result<T, Refused>;

#[derive(Clone, Copy, Default, Debug)]
struct Obj {
    start: usize,
    /// Index of the closing `}`.
    close: usize,
    empty: bool,
}

#[derive(Clone, Debug)]
enum Text {
    /// The string's content, unescaped, at this byte range.
    Span(usize, usize),
    /// The decoded content of a string with escapes.
    Owned(Box<str>),
}

#[derive(Clone, Debug)]
struct Tag {
    obj: Obj,
    name: Option<Text>,
    /// The bytes of the value of the tag's own `inherited` key, if it has one.
    inherited: Option<(usize, usize)>,
}

#[derive(Clone, Debug)]
struct Attr {
    obj: Obj,
    /// This attribute's own tags in `Index::tags`.
    tags: Range<usize>,
}

#[derive(Clone, Default, Debug)]
struct Index {
    event: Obj,
    event_tags: Vec<Tag>,
    /// In `_AttributeFlattened` order: the event's attributes, then those of its objects.
    attrs: Vec<Attr>,
    /// Indices into `attrs`, in the order the attributes occur in the bytes.
    in_place: Vec<usize>,
    tags: Vec<Tag>,
}

/// Which tag names [`EventSource::visit_tag_names`] visits (the scopes of `tag-if`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagScope {
    /// `Event.Tag.{n}.name`.
    Event,
    /// `Event._AttributeFlattened.{n}.Tag.{n}.name`.
    Attribute,
    /// `Event._AttributeFlattened.{n}._allTags.{n}.name`: for each attribute, the event's tags
    /// then its own. With `once`, the event's tags are visited once (before the first
    /// attribute's) instead of once per attribute: the same set of names.
    Inherited { once: bool },
}

impl EventSource {
    /// Indexes `bytes` when they are a MISP event the index can vouch for (see the module
    /// documentation); `None` means: take the tree path.
    pub fn index(bytes: &Bytes) -> Option<EventSource> {
        let index = index(bytes).ok()?;
        Some(EventSource {
            bytes: bytes.clone(),
            index,
        })
    }

    /// The bytes as received.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The document as a tree, as received (`{"Event": {...}}`, which is also its core format
    /// without the extras).
    pub fn to_value(&self) -> Value {
        // The index only accepts what serde_json parses; a failure here would be a bug in it.
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| {
            tracing::error!(error = %e, "an indexed event source does not parse");
            Value::Null
        })
    }

    fn text<'s>(&'s self, t: &'s Text) -> &'s str {
        match t {
            // The whole input was checked to be UTF-8 and spans end at ASCII quotes.
            Text::Span(a, b) => std::str::from_utf8(&self.bytes[*a..*b]).unwrap_or(""),
            Text::Owned(s) => s,
        }
    }

    fn names<'s>(&'s self, tags: &'s [Tag]) -> impl Iterator<Item = &'s str> + 's {
        tags.iter()
            .filter_map(|t| t.name.as_ref())
            .map(|n| self.text(n))
    }

    /// Visits the tag names of `scope` in the order the tree's hash path would extract them,
    /// stopping when `f` breaks.
    pub(crate) fn visit_tag_names(
        &self,
        scope: TagScope,
        f: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let ix = &self.index;
        match scope {
            TagScope::Event => self.names(&ix.event_tags).try_for_each(f),
            TagScope::Attribute => ix
                .attrs
                .iter()
                .try_for_each(|a| self.names(&ix.tags[a.tags.clone()]).try_for_each(&mut *f)),
            TagScope::Inherited { once } => {
                for (i, a) in ix.attrs.iter().enumerate() {
                    if i == 0 || !once {
                        self.names(&ix.event_tags).try_for_each(&mut *f)?;
                    }
                    self.names(&ix.tags[a.tags.clone()]).try_for_each(&mut *f)?;
                }
                ControlFlow::Continue(())
            }
        }
    }

    /// Writes the complete core-format document: the input with `_allTags` added to every
    /// attribute and `_AttributeFlattened` to the event.
    pub fn write_complete(&self, out: &mut Vec<u8>) {
        let src = &self.bytes[..];
        let ix = &self.index;
        let tag_bytes: usize = ix.tags.iter().map(|t| t.obj.close - t.obj.start + 20).sum();
        let inherited_bytes: usize = ix
            .event_tags
            .iter()
            .map(|t| t.obj.close - t.obj.start + 20)
            .sum();
        let attr_bytes: usize = ix.attrs.iter().map(|a| a.obj.close - a.obj.start).sum();
        out.reserve(
            src.len() + 2 * (attr_bytes + tag_bytes + ix.attrs.len() * (inherited_bytes + 16)) + 32,
        );
        let mut at = 0;
        for &i in &ix.in_place {
            let a = &ix.attrs[i];
            out.extend_from_slice(&src[at..a.obj.close]);
            self.write_all_tags(a, out);
            at = a.obj.close;
        }
        out.extend_from_slice(&src[at..ix.event.close]);
        if !ix.event.empty {
            out.push(b',');
        }
        out.extend_from_slice(b"\"_AttributeFlattened\":[");
        for (n, a) in ix.attrs.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&src[a.obj.start..a.obj.close]);
            self.write_all_tags(a, out);
            out.push(b'}');
        }
        out.push(b']');
        out.extend_from_slice(&src[ix.event.close..]);
    }

    /// `,"_allTags":[...]` for attribute `a`, written just before its closing brace.
    fn write_all_tags(&self, a: &Attr, out: &mut Vec<u8>) {
        if !a.obj.empty {
            out.push(b',');
        }
        out.extend_from_slice(b"\"_allTags\":[");
        let inherited = self.index.event_tags.iter().map(|t| (t, true));
        let own = self.index.tags[a.tags.clone()].iter().map(|t| (t, false));
        for (n, (t, flag)) in inherited.chain(own).enumerate() {
            if n > 0 {
                out.push(b',');
            }
            self.write_flagged(t, flag, out);
        }
        out.push(b']');
    }

    /// A copy of tag `t` with `inherited` set to `flag` (replaced in place, else added last).
    fn write_flagged(&self, t: &Tag, flag: bool, out: &mut Vec<u8>) {
        let src = &self.bytes[..];
        let word: &[u8] = if flag { b"true" } else { b"false" };
        match t.inherited {
            Some((a, b)) => {
                out.extend_from_slice(&src[t.obj.start..a]);
                out.extend_from_slice(word);
                out.extend_from_slice(&src[b..=t.obj.close]);
            }
            None => {
                out.extend_from_slice(&src[t.obj.start..t.obj.close]);
                if !t.obj.empty {
                    out.push(b',');
                }
                out.extend_from_slice(b"\"inherited\":");
                out.extend_from_slice(word);
                out.push(b'}');
            }
        }
    }
}

/// A string token: content range (between the quotes) and whether it holds escapes.
#[derive(Clone, Copy)]
struct Str {
    start: usize,
    end: usize,
    escaped: bool,
}

struct Scanner<'a> {
    s: &'a [u8],
    pos: usize,
    depth: u32,
}

/// Bytes of a word with every byte set to `b`.
const fn splat(b: u8) -> u64 {
    u64::from_le_bytes([b; 8])
}

/// The high bit of each byte of `x` that is zero (exact up to the first such byte).
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(splat(1)) & !x & splat(0x80)
}

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Res<u8> {
        self.s.get(self.pos).copied().ok_or(Refused)
    }

    fn eat(&mut self, b: u8) -> Res<()> {
        if self.peek()? == b {
            self.pos += 1;
            Ok(())
        } else {
            Err(Refused)
        }
    }

    fn enter(&mut self) -> Res<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Refused);
        }
        Ok(())
    }

    /// Moves to the next `"`, `\` or control character inside a string, eight bytes at a time.
    fn skip_to_special(&mut self) -> Res<u8> {
        while let Some(chunk) = self.s.get(self.pos..self.pos + 8) {
            let x = u64::from_le_bytes(chunk.try_into().map_err(|_| Refused)?);
            let quote = zero_bytes(x ^ splat(b'"'));
            let backslash = zero_bytes(x ^ splat(b'\\'));
            // Bytes below 0x20: subtracting 0x20 borrows into the high bit (ASCII only; bytes
            // with the high bit set are masked out by `!x`).
            let control = x.wrapping_sub(splat(0x20)) & !x & splat(0x80);
            let hits = quote | backslash | control;
            if hits != 0 {
                self.pos += (hits.trailing_zeros() / 8) as usize;
                return Ok(self.s[self.pos]);
            }
            self.pos += 8;
        }
        loop {
            match self.peek()? {
                b @ (b'"' | b'\\' | 0..=0x1f) => return Ok(b),
                _ => self.pos += 1,
            }
        }
    }

    fn string(&mut self) -> Res<Str> {
        self.eat(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            match self.skip_to_special()? {
                b'"' => {
                    let end = self.pos;
                    self.pos += 1;
                    return Ok(Str {
                        start,
                        end,
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                _ => return Err(Refused),
            }
        }
    }

    fn hex4(&mut self) -> Res<u16> {
        let digits = self.s.get(self.pos..self.pos + 4).ok_or(Refused)?;
        let text = std::str::from_utf8(digits).map_err(|_| Refused)?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Refused);
        }
        self.pos += 4;
        u16::from_str_radix(text, 16).map_err(|_| Refused)
    }

    /// An escape sequence at `\`; surrogates must come in pairs.
    fn escape(&mut self) -> Res<()> {
        self.pos += 1;
        match self.peek()? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                self.pos += 1;
                Ok(())
            }
            b'u' => {
                self.pos += 1;
                match self.hex4()? {
                    0xD800..=0xDBFF => {
                        if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
                            return Err(Refused);
                        }
                        self.pos += 2;
                        match self.hex4()? {
                            0xDC00..=0xDFFF => Ok(()),
                            _ => Err(Refused),
                        }
                    }
                    0xDC00..=0xDFFF => Err(Refused),
                    _ => Ok(()),
                }
            }
            _ => Err(Refused),
        }
    }

    /// An integer of at most 18 digits (anything else is left to the tree path).
    fn number(&mut self) -> Res<()> {
        let start = self.pos;
        if self.peek()? == b'-' {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                while let Some(b'0'..=b'9') = self.s.get(self.pos) {
                    self.pos += 1;
                }
            }
            _ => return Err(Refused),
        }
        if matches!(self.s.get(self.pos), Some(b'.' | b'e' | b'E')) || self.pos - start > 18 {
            return Err(Refused);
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Res<()> {
        if self.s.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Refused)
        }
    }

    fn skip_value(&mut self) -> Res<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(|sc, _| sc.skip_value()).map(drop),
            b'[' => self.array(|sc| sc.skip_value()),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Refused),
        }
    }

    /// An object; `f` is called for each key with the scanner at its value, and must consume it.
    fn object(&mut self, mut f: impl FnMut(&mut Self, Str) -> Res<()>) -> Res<Obj> {
        let start = self.pos;
        self.eat(b'{')?;
        self.enter()?;
        self.ws();
        let mut empty = true;
        if self.peek()? != b'}' {
            empty = false;
            loop {
                let key = self.string()?;
                self.ws();
                self.eat(b':')?;
                self.ws();
                f(self, key)?;
                self.ws();
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        self.ws();
                    }
                    b'}' => break,
                    _ => return Err(Refused),
                }
            }
        }
        let close = self.pos;
        self.pos += 1;
        self.depth -= 1;
        Ok(Obj {
            start,
            close,
            empty,
        })
    }

    /// An array; `f` is called with the scanner at each item, and must consume it.
    fn array(&mut self, mut f: impl FnMut(&mut Self) -> Res<()>) -> Res<()> {
        self.eat(b'[')?;
        self.enter()?;
        self.ws();
        if self.peek()? != b']' {
            loop {
                f(self)?;
                self.ws();
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        self.ws();
                    }
                    b']' => break,
                    _ => return Err(Refused),
                }
            }
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(())
    }

    /// A key's bytes (decoded when it holds escapes; the input is known to be UTF-8).
    fn key(&self, k: Str) -> Res<Cow<'a, [u8]>> {
        if k.escaped {
            decode(&self.s[k.start - 1..=k.end]).map(|s| Cow::Owned(s.into_bytes()))
        } else {
            Ok(Cow::Borrowed(&self.s[k.start..k.end]))
        }
    }

    /// A value the core format leaves as it is, unless it is a number under a key it turns into
    /// a string.
    fn plain(&mut self, key: &[u8]) -> Res<()> {
        if matches!(self.peek()?, b'-' | b'0'..=b'9') && stringify_key_bytes(key) {
            return Err(Refused);
        }
        self.skip_value()
    }

    /// An object whose keys must pass [`Scanner::plain`] (`Org`, `Orgc`).
    fn plain_object(&mut self) -> Res<()> {
        self.object(|sc, k| {
            let k = sc.key(k)?;
            sc.plain(&k)
        })
        .map(drop)
    }

    fn tag(&mut self) -> Res<Tag> {
        let mut name = None;
        let mut inherited = None;
        let obj = self.object(|sc, k| match &*sc.key(k)? {
            b"name" if name.is_none() => {
                let s = sc.string()?;
                name = Some(if s.escaped {
                    Text::Owned(decode(&sc.s[s.start - 1..=s.end])?.into_boxed_str())
                } else {
                    Text::Span(s.start, s.end)
                });
                Ok(())
            }
            b"inherited" if inherited.is_none() => {
                let start = sc.pos;
                sc.skip_value()?;
                inherited = Some((start, sc.pos));
                Ok(())
            }
            b"name" | b"inherited" => Err(Refused),
            k => sc.plain(k),
        })?;
        Ok(Tag {
            obj,
            name,
            inherited,
        })
    }

    fn tags(&mut self, into: &mut Vec<Tag>) -> Res<()> {
        self.array(|sc| {
            let t = sc.tag()?;
            into.push(t);
            Ok(())
        })
    }

    fn attribute(&mut self, tags: &mut Vec<Tag>) -> Res<Attr> {
        let first = tags.len();
        let mut seen_tags = false;
        let obj = self.object(|sc, k| match &*sc.key(k)? {
            b"Tag" if !seen_tags => {
                seen_tags = true;
                sc.tags(tags)
            }
            b"Tag" | b"value1" | b"value2" | b"AttributeTag" | b"_allTags" => Err(Refused),
            k => sc.plain(k),
        })?;
        Ok(Attr {
            obj,
            tags: first..tags.len(),
        })
    }

    fn attributes(&mut self, into: &mut Vec<Attr>, tags: &mut Vec<Tag>) -> Res<()> {
        self.array(|sc| {
            let a = sc.attribute(tags)?;
            into.push(a);
            Ok(())
        })
    }

    fn event(&mut self, ix: &mut Index) -> Res<()> {
        let (mut top, mut nested) = (Vec::new(), Vec::new());
        let (mut seen_attrs, mut seen_objects, mut seen_tags) = (false, false, false);
        let event = self.object(|sc, k| match &*sc.key(k)? {
            b"Attribute" if !seen_attrs => {
                seen_attrs = true;
                sc.attributes(&mut top, &mut ix.tags)
            }
            b"Object" if !seen_objects => {
                seen_objects = true;
                sc.array(|sc| {
                    let mut seen = false;
                    sc.object(|sc, k| match &*sc.key(k)? {
                        b"Attribute" if !seen => {
                            seen = true;
                            sc.attributes(&mut nested, &mut ix.tags)
                        }
                        b"Attribute" => Err(Refused),
                        k => sc.plain(k),
                    })
                    .map(drop)
                })
            }
            b"Tag" if !seen_tags => {
                seen_tags = true;
                sc.tags(&mut ix.event_tags)
            }
            b"Attribute"
            | b"Object"
            | b"Tag"
            | b"user_id"
            | b"EventTag"
            | b"_AttributeFlattened" => Err(Refused),
            b"Org" | b"Orgc" if sc.peek()? == b'{' => sc.plain_object(),
            k => sc.plain(k),
        })?;
        ix.event = event;
        let n_top = top.len();
        ix.attrs = top;
        ix.attrs.append(&mut nested);
        ix.in_place = (0..ix.attrs.len()).collect();
        if ix.attrs[..n_top]
            .first()
            .zip(ix.attrs[n_top..].first())
            .is_some_and(|(t, n)| n.obj.start < t.obj.start)
        {
            // `Object` came before `Attribute` in the bytes.
            ix.in_place.rotate_left(n_top);
        }
        Ok(())
    }
}

/// Decodes one JSON string token (quotes included).
fn decode(token: &[u8]) -> Res<String> {
    serde_json::from_slice(token).map_err(|_| Refused)
}

fn index(bytes: &[u8]) -> Res<Index> {
    std::str::from_utf8(bytes).map_err(|_| Refused)?;
    let mut sc = Scanner {
        s: bytes,
        pos: 0,
        depth: 0,
    };
    let mut ix = Index::default();
    let mut seen = false;
    sc.ws();
    sc.object(|sc, k| match &*sc.key(k)? {
        b"Event" if !seen => {
            seen = true;
            sc.event(&mut ix)
        }
        _ => Err(Refused),
    })?;
    sc.ws();
    if !seen || sc.pos != bytes.len() {
        return Err(Refused);
    }
    Ok(ix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core_format;
    use crate::graph::tests::fixture;
    use serde_json::json;

    /// The complete document as the tree path serialises it.
    fn tree_json(v: &Value) -> Vec<u8> {
        serde_json::to_vec(&core_format::convert(v.clone()).expect("convert")).expect("json")
    }

    /// The fast path's output, parsed and serialised again (whitespace, escapes normalised).
    fn fast_json(src: &EventSource) -> Vec<u8> {
        let mut out = Vec::new();
        src.write_complete(&mut out);
        let v: Value = serde_json::from_slice(&out).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&out));
        });
        serde_json::to_vec(&v).expect("json")
    }

    fn names(src: &EventSource, scope: TagScope) -> Vec<String> {
        let mut out = Vec::new();
        let _ = src.visit_tag_names(scope, &mut |n| {
            out.push(n.to_owned());
            ControlFlow::Continue(())
        });
        out
    }

    fn tree_names(v: &Value, path: &str) -> Vec<String> {
        let doc = core_format::convert(v.clone()).expect("convert");
        crate::HashPath::parse(path)
            .expect("path")
            .extract(&doc)
            .into_iter()
            .map(|n| n.as_str().expect("string name").to_owned())
            .collect()
    }

    /// Everything the index answers equals what the tree path answers.
    fn assert_same(bytes: &[u8]) -> bool {
        let Some(src) = EventSource::index(&Bytes::copy_from_slice(bytes)) else {
            return false;
        };
        let v: Value = serde_json::from_slice(bytes).expect("indexed input must be JSON");
        assert_eq!(
            String::from_utf8(fast_json(&src)).expect("utf8"),
            String::from_utf8(tree_json(&v)).expect("utf8"),
            "input: {}",
            String::from_utf8_lossy(bytes)
        );
        assert_eq!(src.to_value(), v);
        assert_eq!(
            names(&src, TagScope::Event),
            tree_names(&v, "Event.Tag.{n}.name")
        );
        assert_eq!(
            names(&src, TagScope::Attribute),
            tree_names(&v, "Event._AttributeFlattened.{n}.Tag.{n}.name")
        );
        assert_eq!(
            names(&src, TagScope::Inherited { once: false }),
            tree_names(&v, "Event._AttributeFlattened.{n}._allTags.{n}.name")
        );
        true
    }

    #[test]
    fn fixture_events_index_and_match_the_tree() {
        let ev = fixture("events/pymisp_57c4445b-c548-4654-af0b-4be3950d210f.json");
        // PyMISP's export carries numeric ids in places; normalise them to strings as MISP's
        // own export does, so that the index accepts it.
        let ev = core_format::convert_base(ev).expect("convert");
        let text = serde_json::to_vec_pretty(&ev).expect("json");
        assert!(assert_same(&text), "pretty-printed fixture event refused");
        let text = serde_json::to_vec(&ev).expect("json");
        assert!(assert_same(&text), "compact fixture event refused");
    }

    fn tag(name: &str) -> Value {
        json!({"id": "3", "name": name, "colour": "#fff", "inherited": 0})
    }

    fn sample() -> Value {
        json!({"Event": {
            "id": "1", "info": "x", "Org": {"id": "1", "name": "o"},
            "Object": [{"id": "7", "name": "file", "Attribute": [
                {"id": "3", "type": "md5", "Tag": [tag("tlp:white")]}]},
                {"id": "8", "name": "empty"}],
            "Attribute": [
                {"id": "1", "type": "ip-src", "Tag": [tag("tlp:amber"), {"name": "a\"b\\c\u{e9}"}]},
                {},
                {"id": "2", "Tag": [{}]}],
            "Tag": [tag("tlp:green"), {"name": "ev2"}]
        }})
    }

    #[test]
    fn objects_before_attributes_empty_objects_escapes_and_whitespace() {
        let v = sample();
        assert!(assert_same(&serde_json::to_vec(&v).expect("json")));
        assert!(assert_same(&serde_json::to_vec_pretty(&v).expect("json")));
        let spaced = br#" { "Event" : { "Attribute" : [ { "Tag" : [ { "name" : "t\u0041g" , "x" : [ 1 , -2 , true , null , { } , [ ] ] } ] } ] , "Tag" : [ ] } } "#;
        assert!(assert_same(spaced));
        assert!(assert_same(br#"{"Event":{}}"#));
        assert!(assert_same(br#"{"Event":{"Attribute":[]}}"#));
        assert!(assert_same(br#"{"Event":{"Tag":[{"name":"x"}]}}"#));
        assert!(assert_same(
            br#"{"\u0045vent":{"Attribute":[{"T\u0061g":[{"name":"\ud83d\ude00"}]}]}}"#
        ));
    }

    #[test]
    fn what_the_conversion_changes_or_the_tree_reads_differently_is_refused() {
        let refused = [
            r#"{"Event":{"id":1}}"#,
            r#"{"Event":{"Org":{"id":1}}}"#,
            r#"{"Event":{"Attribute":[{"event_id":-3}]}}"#,
            r#"{"Event":{"Object":[{"template_version":2}]}}"#,
            r#"{"Event":{"Tag":[{"id":3,"name":"x"}]}}"#,
            r#"{"Event":{"user_id":"1"}}"#,
            r#"{"Event":{"EventTag":[]}}"#,
            r#"{"Event":{"_AttributeFlattened":[]}}"#,
            r#"{"Event":{"Attribute":[{"value1":"a"}]}}"#,
            r#"{"Event":{"Attribute":[{"AttributeTag":[]}]}}"#,
            r#"{"Event":{"Attribute":[{"_allTags":[]}]}}"#,
            r#"{"Event":{"Attribute":[{"Tag":{"name":"x"}}]}}"#,
            r#"{"Event":{"Attribute":[{"Tag":[],"Tag":[]}]}}"#,
            r#"{"Event":{"Tag":[{"name":"a","name":"b"}]}}"#,
            r#"{"Event":{"Tag":[{"name":1}]}}"#,
            r#"{"Event":{"Tag":["x"]}}"#,
            r#"{"Event":{"Attribute":{}}}"#,
            r#"{"Event":{"Attribute":[1]}}"#,
            r#"{"Event":{},"Event":{}}"#,
            r#"{"Event":{},"_x":1}"#,
            r#"{"Workflow":{"data":"{}"}}"#,
            r#"{"Attribute":{},"Event":{}}"#,
            r#"{"Event":{"x":1.5}}"#,
            r#"{"Event":{"x":1e3}}"#,
            r#"{"Event":{"x":1234567890123456789}}"#,
            r#"{"Event":[]}"#,
            r#"[]"#,
            r#""#,
        ];
        for text in refused {
            assert!(
                EventSource::index(&Bytes::from(text)).is_none(),
                "indexed: {text}"
            );
        }
    }

    #[test]
    fn invalid_json_is_refused() {
        let invalid: [&[u8]; 17] = [
            br#"{"Event":{}"#,
            br#"{"Event":{}}}"#,
            br#"{"Event":{},}"#,
            br#"{"Event":{"a":[1,]}}"#,
            br#"{"Event":{"a":01}}"#,
            br#"{"Event":{"a":-}}"#,
            br#"{"Event":{"a":tru}}"#,
            br#"{"Event":{"a":"\x"}}"#,
            br#"{"Event":{"a":"\u12"}}"#,
            br#"{"Event":{"a":"\ud800"}}"#,
            br#"{"Event":{"a":"\udc00\ud800"}}"#,
            b"{\"Event\":{\"a\":\"tab\there\"}}",
            b"{\"Event\":{\"a\":\"\xff\"}}",
            br#"{"Event":{"a" 1}}"#,
            br#"{"Event":{a:1}}"#,
            br#"{"Event":{"a":1 "b":2}}"#,
            br#"{"Event":{"a":'x'}}"#,
        ];
        for text in invalid {
            assert!(
                EventSource::index(&Bytes::copy_from_slice(text)).is_none(),
                "indexed: {}",
                String::from_utf8_lossy(text)
            );
        }
        let deep = format!(
            "{{\"Event\":{{\"a\":{}1{}}}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(EventSource::index(&Bytes::from(deep)).is_none());
    }

    /// Random byte edits of a small event: whatever the index accepts is valid JSON and gives
    /// the tree path's answers. A deterministic generator, so a failure reproduces.
    #[test]
    fn mutated_events_indexed_only_when_valid_and_then_equivalent() {
        let base = serde_json::to_vec(&sample()).expect("json");
        let alphabet = b"{}[],:\"\\ 0123456789-.eEtrufalsn\tuU\x01\xc3\xa9abcdTagNmEvent";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let (mut accepted, mut valid) = (0, 0);
        for _ in 0..20_000 {
            let mut bytes = base.clone();
            for _ in 0..=next(3) {
                let at = next(bytes.len());
                match next(3) {
                    0 => bytes[at] = alphabet[next(alphabet.len())],
                    1 => bytes.insert(at, alphabet[next(alphabet.len())]),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            let parsed = serde_json::from_slice::<Value>(&bytes).is_ok();
            valid += usize::from(parsed);
            if EventSource::index(&Bytes::copy_from_slice(&bytes)).is_some() {
                assert!(
                    parsed,
                    "indexed invalid JSON: {}",
                    String::from_utf8_lossy(&bytes)
                );
                assert!(assert_same(&bytes));
                accepted += 1;
            }
        }
        // The edits must leave enough inputs valid for the test to mean something.
        assert!(
            accepted > 200 && valid > accepted / 2,
            "{accepted} accepted, {valid} valid"
        );
    }
}
