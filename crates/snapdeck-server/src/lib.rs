//! snapdeck-server: the Runloop API emulator (SQLite-backed), static serving of the built
//! app, and proxy mode.
