//! A light structural scanner over JSON bytes.
//!
//! It owns the zero-copy half of the merger: finding where a value starts and ends, walking
//! the members of an object and the elements of an array, all as byte ranges into the
//! caller's buffer. It does not decode strings or numbers and does not fully validate
//! JSON: it trusts the structure a Meilisearch node writes (serde_json output) and only
//! promises never to panic or read out of bounds on any input. Values that the merger must
//! interpret (score details, facets, stats) are parsed with simd-json from a scratch copy
//! of their bytes; values it only passes through (hits, documents) are copied verbatim.

use std::ops::Range;

use crate::error::ScanError;

/// One `"key": value` member of an object, as ranges into the scanned buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    /// The key's raw bytes, without the surrounding quotes (escapes left as written).
    pub key: Range<usize>,
    /// From the key's opening quote to the value's last byte: the member as written.
    pub whole: Range<usize>,
    /// The value's bytes.
    pub value: Range<usize>,
}

#[inline]
pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// `i` is at an opening quote; returns the index just past the closing quote.
#[inline]
pub(crate) fn skip_string(b: &[u8], i: usize) -> Result<usize, ScanError> {
    let mut j = i + 1;
    loop {
        let rest = b.get(j..).ok_or(ScanError::UnexpectedEnd)?;
        match memchr::memchr2(b'"', b'\\', rest) {
            None => return Err(ScanError::UnexpectedEnd),
            Some(off) => {
                let at = j + off;
                if b[at] == b'"' {
                    return Ok(at + 1);
                }
                // A backslash escapes exactly the next byte (`\uXXXX` continues with
                // plain hex digits, which need no special handling).
                j = at + 2;
            }
        }
    }
}

/// Returns the end (exclusive) of the value starting at `i` (no leading whitespace).
pub(crate) fn skip_value(b: &[u8], i: usize) -> Result<usize, ScanError> {
    match b.get(i) {
        None => Err(ScanError::UnexpectedEnd),
        Some(b'"') => skip_string(b, i),
        Some(b'{') | Some(b'[') => skip_container(b, i),
        Some(c) if is_scalar_byte(*c) => {
            let mut j = i + 1;
            while j < b.len() && is_scalar_byte(b[j]) {
                j += 1;
            }
            Ok(j)
        }
        Some(_) => Err(ScanError::Unexpected(i)),
    }
}

#[inline]
fn is_scalar_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')
}

fn skip_container(b: &[u8], i: usize) -> Result<usize, ScanError> {
    let mut depth = 0usize;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'"' => {
                j = skip_string(b, j)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1).ok_or(ScanError::Unexpected(j))?;
                if depth == 0 {
                    return Ok(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    Err(ScanError::UnexpectedEnd)
}

/// Iterates over the members of the object whose `{` is at `start`.
pub(crate) struct Members<'a> {
    b: &'a [u8],
    i: usize,
    done: bool,
    first: bool,
}

pub(crate) fn members(b: &[u8], start: usize) -> Result<Members<'_>, ScanError> {
    if b.get(start) != Some(&b'{') {
        return Err(ScanError::Expected("an object", start));
    }
    Ok(Members {
        b,
        i: start + 1,
        done: false,
        first: true,
    })
}

impl Iterator for Members<'_> {
    type Item = Result<Member, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.step();
        match r {
            Ok(Some(m)) => Some(Ok(m)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl Members<'_> {
    fn step(&mut self) -> Result<Option<Member>, ScanError> {
        let b = self.b;
        let mut i = skip_ws(b, self.i);
        match b.get(i) {
            Some(b'}') => return Ok(None),
            Some(b',') if !self.first => i = skip_ws(b, i + 1),
            Some(b'"') if self.first => {}
            Some(_) => return Err(ScanError::Unexpected(i)),
            None => return Err(ScanError::UnexpectedEnd),
        }
        self.first = false;
        if b.get(i) != Some(&b'"') {
            return Err(ScanError::Expected("a key", i));
        }
        let key_end = skip_string(b, i)?;
        let key = i + 1..key_end - 1;
        let colon = skip_ws(b, key_end);
        if b.get(colon) != Some(&b':') {
            return Err(ScanError::Expected("':'", colon));
        }
        let vstart = skip_ws(b, colon + 1);
        let vend = skip_value(b, vstart)?;
        self.i = vend;
        Ok(Some(Member {
            key,
            whole: i..vend,
            value: vstart..vend,
        }))
    }
}

/// Collects the element ranges of the array whose `[` is at `start`.
pub(crate) fn array_elements(
    b: &[u8],
    start: usize,
    out: &mut Vec<Range<usize>>,
) -> Result<(), ScanError> {
    if b.get(start) != Some(&b'[') {
        return Err(ScanError::Expected("an array", start));
    }
    let mut i = skip_ws(b, start + 1);
    if b.get(i) == Some(&b']') {
        return Ok(());
    }
    loop {
        let end = skip_value(b, i)?;
        out.push(i..end);
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b']') => return Ok(()),
            Some(_) => return Err(ScanError::Unexpected(i)),
            None => return Err(ScanError::UnexpectedEnd),
        }
    }
}

/// The start of the top-level value of a body (leading whitespace skipped).
pub(crate) fn root(b: &[u8]) -> usize {
    skip_ws(b, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(s: &str) -> Vec<String> {
        members(s.as_bytes(), 0)
            .expect("object")
            .map(|m| {
                let m = m.expect("member");
                format!("{}={}", &s[m.key], &s[m.value])
            })
            .collect()
    }

    #[test]
    fn members_walks_nested_values_and_escaped_strings() {
        let s = r#"{"a":1, "b" : {"x":[1,{"y":"}"}]}, "c\"d":"q\\\"]" ,"e":null}"#;
        assert_eq!(
            keys(s),
            vec![
                "a=1".to_string(),
                r#"b={"x":[1,{"y":"}"}]}"#.to_string(),
                r#"c\"d="q\\\"]""#.to_string(),
                "e=null".to_string()
            ]
        );
    }

    #[test]
    fn array_elements_returns_each_element_range() {
        let s = r#"[ {"a":[1,2]} , "x", 3.5e2 ,[] ]"#;
        let mut out = Vec::new();
        array_elements(s.as_bytes(), 0, &mut out).expect("array");
        let got: Vec<&str> = out.iter().map(|r| &s[r.clone()]).collect();
        assert_eq!(got, vec![r#"{"a":[1,2]}"#, r#""x""#, "3.5e2", "[]"]);
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        for s in [
            r#"{"a":"#,
            r#"{"a":"x"#,
            r#"{"a":[1,"#,
            r#"{"a":1"#,
            "{\"a\\",
        ] {
            let r: Result<Vec<_>, _> = members(s.as_bytes(), 0).expect("object").collect();
            assert!(r.is_err(), "{s} should fail");
        }
    }
}
