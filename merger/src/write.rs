//! Output helpers: JSON string escaping and number formatting the way serde_json (and so
//! Meilisearch) writes them, so merged bodies are byte-compatible with a node's.

/// Appends `s` as a JSON string literal, escaping like serde_json: `"`, `\`, and control
/// characters (`\b \f \n \r \t` by name, the rest as `\u00XX`); non-ASCII stays UTF-8.
pub(crate) fn push_str_lit(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(c >> 4) as usize]);
                out.push(HEX[(c & 0xf) as usize]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends an unsigned integer.
pub(crate) fn push_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(n.to_string().as_bytes());
}

/// Appends a float the way serde_json does (shortest round-trip, `1.0` keeps its `.0`;
/// non-finite values become `null`).
pub(crate) fn push_f64(out: &mut Vec<u8>, f: f64) {
    match serde_json::Number::from_f64(f) {
        Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends `"key":` for a key that needs no escaping.
pub(crate) fn push_key(out: &mut Vec<u8>, key: &str) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_like_serde_json() {
        let s = "a\"b\\c\n\u{1}é\u{7f}";
        let mut out = Vec::new();
        push_str_lit(&mut out, s);
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            serde_json::to_string(s).expect("json")
        );
    }

    #[test]
    fn floats_are_written_like_serde_json() {
        let mut out = Vec::new();
        push_f64(&mut out, 1.0);
        out.push(b' ');
        push_f64(&mut out, 0.123456789);
        assert_eq!(out, b"1.0 0.123456789");
    }
}
