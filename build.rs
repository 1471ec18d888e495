//! Sets the shared library's soname and generates `include/chatbotkit.h`
//! with cbindgen (the header is committed; CI checks it is up to date).

use std::env;
use std::path::PathBuf;

fn main() {
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libchatbotkit.so.0");
        // Not unloadable: dlclose() leaves it loaded. Its threads, runtimes
        // and pooled sockets live for the process; unloading the code under
        // them would leak them at best.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }

    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src");

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    let version = env::var("CARGO_PKG_VERSION").expect("set by cargo");
    let part = |name: &str| env::var(name).expect("set by cargo");
    config.after_includes = Some(format!(
        "\n#define CHATBOTKIT_VERSION \"{version}\"\n\
         #define CHATBOTKIT_VERSION_MAJOR {}\n\
         #define CHATBOTKIT_VERSION_MINOR {}\n\
         #define CHATBOTKIT_VERSION_PATCH {}\n",
        part("CARGO_PKG_VERSION_MAJOR"),
        part("CARGO_PKG_VERSION_MINOR"),
        part("CARGO_PKG_VERSION_PATCH"),
    ));

    match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(crate_dir.join("include/chatbotkit.h"));
        }
        Err(e) => panic!("cbindgen could not generate include/chatbotkit.h: {e}"),
    }
}
