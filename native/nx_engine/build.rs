//! Builds the small C++ shim (InferenceMode, the CPU allocator hook) against the same LibTorch
//! that torch-sys links, and gives test binaries an rpath to it so `cargo test` needs no
//! LD_LIBRARY_PATH.
use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=cpp/shim.cpp");
    let libtorch = match env::var("LIBTORCH") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => {
            println!(
                "cargo:warning=LIBTORCH is not set; run `make setup` or `scripts/ensure_libtorch.sh`"
            );
            std::process::exit(1);
        }
    };
    let include = libtorch.join("include");
    cc::Build::new()
        .cpp(true)
        .file("cpp/shim.cpp")
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-deprecated-declarations")
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .opt_level(2)
        .compile("nx_engine_shim");
    let lib = libtorch.join("lib");
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-lib=dylib=c10");
    println!("cargo:rustc-link-lib=dylib=torch_cpu");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
}
