//! Fuzz format detection and whichever reader it picks.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    draad_fuzz_common::check(data, None);
});
