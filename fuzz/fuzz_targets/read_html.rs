//! Fuzz the html reader: any bytes give a thread or a clear error, never a panic; a thread that
//! reads is also analysed and its reply graph exported.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    draad_fuzz_common::check(data, Some(draad::model::Format::Html));
});
