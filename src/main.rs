//! The binary: the browser app on wasm32, the `obslab` command line natively.

#[cfg(target_arch = "wasm32")]
fn main() {
    obslab::ui::mount();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(obslab::cli::main(std::env::args().skip(1).collect()));
}
