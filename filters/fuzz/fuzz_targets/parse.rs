//! `parse` must never panic, whatever the bytes; and whatever it accepts, its canonical
//! text must parse back to the same filter.

#![no_main]

use libfuzzer_sys::fuzz_target;
use miroir_filters::filter::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let Ok(Some(mut filter)) = parse(input) else { return };
    filter.clear_spans();
    let text = filter.to_string();
    let mut reparsed = parse(&text)
        .unwrap_or_else(|error| panic!("`{text}` (from `{input}`) does not parse: {error}"))
        .unwrap_or_else(|| panic!("`{text}` (from `{input}`) parses to no filter"));
    reparsed.clear_spans();
    assert_eq!(reparsed, filter, "`{text}` (from `{input}`) parses to another filter");
});
