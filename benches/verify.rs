//! TEMPORARY STUB on branch `consensus`; replaced by main's bench at merge.
fn main() {}
