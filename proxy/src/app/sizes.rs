//! Byte sizes as Meilisearch prints them in task details (`preCompactionSize`,
//! `postCompactionSize`): the value in the largest decimal or binary unit not above it,
//! printed in full (`3.4609375 KiB`, `12 MB`, `640 B`).
//!
//! Miroir reads the nodes' sizes back into bytes to report the fleet's total.

/// The units, largest first, with their size in bytes.
const UNITS: [(&str, u64); 12] = [
    ("EiB", 1 << 60),
    ("EB", 1_000_000_000_000_000_000),
    ("PiB", 1 << 50),
    ("PB", 1_000_000_000_000_000),
    ("TiB", 1 << 40),
    ("TB", 1_000_000_000_000),
    ("GiB", 1 << 30),
    ("GB", 1_000_000_000),
    ("MiB", 1 << 20),
    ("MB", 1_000_000),
    ("KiB", 1 << 10),
    ("KB", 1_000),
];

/// Print a byte count the way Meilisearch prints sizes in task details.
pub(crate) fn format_size(bytes: u64) -> String {
    match UNITS.iter().find(|(_, size)| bytes >= *size) {
        // `f64`'s Display prints the shortest form that reads back exactly.
        Some((unit, size)) => format!("{} {unit}", bytes as f64 / *size as f64),
        None => format!("{bytes} B"),
    }
}

/// Read a size printed by [`format_size`] (or by a node) back into bytes.
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    let (value, unit) = text.trim().split_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let scale = match unit {
        "B" => 1,
        unit => UNITS.iter().find(|(name, _)| *name == unit)?.1,
    };
    let bytes = (value * scale as f64).round();
    (bytes.is_finite() && bytes >= 0.0).then_some(bytes as u64)
}

/// The sum of the sizes the nodes reported under `field`, printed like theirs; `None`
/// when no node reported one (or one is unreadable: a partial sum would be wrong).
pub(crate) fn sum_sizes(field: &str, nodes: &[serde_json::Value]) -> Option<String> {
    let reported: Vec<&str> = nodes
        .iter()
        .filter_map(|details| details.get(field))
        .filter_map(serde_json::Value::as_str)
        .collect();
    if reported.is_empty() {
        return None;
    }
    let mut total = 0u64;
    for text in reported {
        total = total.checked_add(parse_size(text)?)?;
    }
    Some(format_size(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_use_the_largest_unit_not_above_them() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(999), "999 B");
        assert_eq!(format_size(1000), "1 KB");
        assert_eq!(format_size(1023), "1.023 KB");
        assert_eq!(format_size(3544), "3.4609375 KiB");
        assert_eq!(format_size(1_000_000), "1 MB");
        assert_eq!(format_size(1 << 20), "1 MiB");
        assert_eq!(format_size(12 << 30), "12 GiB");
    }

    #[test]
    fn printed_sizes_read_back_exactly() {
        for bytes in [
            0,
            1,
            999,
            1000,
            1023,
            1024,
            3544,
            1_048_575,
            123_456_789,
            5 << 40,
        ] {
            assert_eq!(parse_size(&format_size(bytes)), Some(bytes), "{bytes}");
        }
        assert_eq!(parse_size("12 parsecs"), None);
        assert_eq!(parse_size("lots"), None);
    }

    #[test]
    fn node_sizes_add_up() {
        let nodes = [
            json!({"preCompactionSize": "1 KiB", "postCompactionSize": "600 B"}),
            json!({"preCompactionSize": "1 KiB", "postCompactionSize": "424 B"}),
            json!({}),
        ];
        assert_eq!(
            sum_sizes("preCompactionSize", &nodes).as_deref(),
            Some("2 KiB")
        );
        assert_eq!(
            sum_sizes("postCompactionSize", &nodes).as_deref(),
            Some("1 KiB")
        );
        assert_eq!(sum_sizes("other", &nodes), None);
        assert_eq!(
            sum_sizes("preCompactionSize", &[json!({"preCompactionSize": "big"})]),
            None
        );
    }
}
