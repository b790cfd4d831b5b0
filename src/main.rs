//! Entry point: installs the panic hook and mounts the app; everything else is in lib.rs.
fn main() {
    console_error_panic_hook::set_once();
    snapdeck::mount();
}
