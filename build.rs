//! Sets the shared library's soname. The header is generated apart from the
//! build (`make header`), so a plain `cargo build` never writes into the
//! source tree.

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        // The soname is the major version's, for all of 0.x too (minor
        // releases only add); `make install` and the CMake package name
        // the same from the same number.
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libchatbotkit.so.{major}");
        // Not unloadable: dlclose() leaves it loaded. Its threads, runtimes
        // and pooled sockets live for the process; unloading the code under
        // them would leak them at best.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
