//! Pure domain logic for snapdeck: no I/O, no clock, no randomness (time and ids are
//! passed in), so every rule here is reachable by plain `cargo test`.
