//! The `stog` command line.
fn main() {
    println!("stog {}", env!("CARGO_PKG_VERSION"));
}
