//! What the integration tests share: the server in process ([`emu`]), the server with
//! jobs and a real client of it ([`jobs`]), the real binary on a socket ([`process`]),
//! and what any real client does ([`client`]).

// Each test binary compiles this module and uses only the part it needs.
#![allow(dead_code, unused_imports)]

pub mod client;
pub mod emu;
pub mod jobs;
pub mod process;

pub use emu::{Emu, KEY, Reply, send};
pub use process::Server;
