//! Finds libtorch at run time without LD_LIBRARY_PATH: stog exports the folder of the libtorch it
//! linked (`DEP_STOG_LIBTORCH_LIB`), and the binary records it as its rpath.
fn main() {
    if let Ok(lib) = std::env::var("DEP_STOG_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
