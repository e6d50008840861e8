//! Links libtorch so that CUDA is kept and binaries find it without LD_LIBRARY_PATH
//! (see README, "Using stog from another crate").
fn main() {
    println!("cargo::rustc-check-cfg=cfg(torch_cuda)");
    // Set because torch-sys (links = "tch") is a direct dependency.
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        // Our bins, examples and tests find libtorch without LD_LIBRARY_PATH.
        println!("cargo:rustc-link-arg=-Wl,-rpath={lib}");
        // With `links = "stog"`, dependents read DEP_STOG_LIBTORCH_LIB.
        println!("cargo:libtorch_lib={lib}");
        if std::path::Path::new(&lib).join("libtorch_cuda.so").exists() {
            println!("cargo:rustc-cfg=torch_cuda");
        }
    }
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch,--as-needed");
    }
}
