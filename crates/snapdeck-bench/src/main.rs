//! Measurement tools behind `scripts/bench`. Figures only: no assertions here, and none
//! of this runs in the tests.
fn main() {}
