//! Header verification throughput (placeholder until the bench lands).
fn main() {}
