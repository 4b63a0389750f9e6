//! Gives the NIF library an rpath to LibTorch so the BEAM loads it without LD_LIBRARY_PATH.
//! `$ORIGIN/libtorch` covers a release layout that ships LibTorch beside the NIF in priv/.
use std::env;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(libtorch) = env::var("LIBTORCH") {
        println!("cargo:rustc-link-arg-cdylib=-Wl,-rpath,{libtorch}/lib");
    }
    println!("cargo:rustc-link-arg-cdylib=-Wl,-rpath,$ORIGIN/libtorch/lib");
}
