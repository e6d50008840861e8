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
        surgery(std::path::Path::new(&lib));
    }
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch,--as-needed");
    }
}

/// Compiles the TorchScript surgery of `src/script/cpp/surgery.cpp` against the headers of the
/// libtorch in `lib` (its parent holds `include/`), as torch-sys compiles its own C++.
fn surgery(lib: &std::path::Path) {
    let source = "src/script/cpp/surgery.cpp";
    println!("cargo:rerun-if-changed={source}");
    let include = lib.parent().map(|p| p.join("include")).unwrap_or_default();
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .warnings(false)
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag("-D_GLIBCXX_USE_CXX11_ABI=1")
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .file(source)
        .compile("stog_surgery");
}
