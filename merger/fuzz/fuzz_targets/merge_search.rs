//! Fuzzes every merge function with arbitrary bodies: none may panic.
//! Run with `cargo +nightly fuzz run merge_search` from `merger/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use miroir_merger::{
    merge_documents, merge_facet_search, merge_global_stats, merge_index_stats, merge_search,
    FacetOrder, FacetSearchRequest, SearchRequest,
};

fuzz_target!(|data: &[u8]| {
    // Split the input into up to four bodies on 0xFF bytes (never valid in UTF-8 JSON).
    let bodies: Vec<&[u8]> = data.split(|b| *b == 0xff).take(4).collect();
    let _ = merge_search(&bodies, &SearchRequest::offset_limit(1, 5));
    let _ = merge_documents(&bodies, 1, 5);
    let _ = merge_index_stats(&bodies);
    let _ = merge_global_stats(&bodies);
    let _ = merge_facet_search(
        &bodies,
        &FacetSearchRequest { order: FacetOrder::Count, max_values_per_facet: 3 },
    );
});
