//! Where the extension module finds libtorch at run time: the `torch` package installed beside it
//! (`site-packages/torch/lib`, relative to the module in `site-packages/stog/`), then the libtorch
//! it was built against. `import stog` imports torch first anyway (which loads the same
//! libraries), so either suffices.
fn main() {
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN/../torch/lib");
    if let Ok(lib) = std::env::var("DEP_STOG_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
