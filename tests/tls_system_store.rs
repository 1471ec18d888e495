//! The system's trust store: `SSL_CERT_FILE` and `SSL_CERT_DIR` name what
//! is trusted by default, and `caCertificatePem` adds to it.
//!
//! The library reads the store once per process, so each test runs its
//! calls in a child process (this test binary again, for that one test)
//! with the variables set; the parent makes the certificates and serves
//! them, and checks what its servers saw.

mod common;
mod tls_support;

use std::path::PathBuf;
use std::process::Command;

use tls_support::*;

/// Set in the child: the test runs its calls instead of starting a child.
const CHILD: &str = "CBK_TEST_TLS_STORE_CHILD";

/// The child's inputs, passed through its environment.
const URL_SYSTEM: &str = "CBK_TEST_TLS_URL_SYSTEM";
const URL_OTHER: &str = "CBK_TEST_TLS_URL_OTHER";
const OTHER_ROOT: &str = "CBK_TEST_TLS_OTHER_ROOT";

/// A directory of its own under the temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("cbk-tls-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A root the "system" trusts, one it does not, and a server for each.
struct World {
    system_root: Cert,
    other_root: Cert,
    system: TlsServer,
    other: TlsServer,
}

fn world(connections: usize) -> World {
    let system_root = root("system root", LONG_AGO, FAR_AHEAD);
    let other_root = root("other root", LONG_AGO, FAR_AHEAD);
    let system = TlsServer::start(
        &[&leaf(&system_root, &["127.0.0.1"], LONG_AGO, FAR_AHEAD)],
        connections,
    );
    let other = TlsServer::start(
        &[&leaf(&other_root, &["127.0.0.1"], LONG_AGO, FAR_AHEAD)],
        connections,
    );
    World {
        system_root,
        other_root,
        system,
        other,
    }
}

/// Runs `test` of this binary in a child process with `set` in its
/// environment and `unset` taken out of it; it must pass.
fn run_child(test: &str, world: &World, set: &[(&str, &std::ffi::OsStr)], unset: &[&str]) {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env(URL_SYSTEM, world.system.url())
        .env(URL_OTHER, world.other.url())
        .env(OTHER_ROOT, &world.other_root.pem);
    for (k, v) in set {
        command.env(k, v);
    }
    for k in unset {
        command.env_remove(k);
    }
    let out = command.output().expect("child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "the child failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by the parent"))
}

/// What the child checks: the system's store trusts the system root and
/// not the other; `caCertificatePem` adds the other without dropping the
/// system's.
fn child_checks() {
    let (system, other) = (var(URL_SYSTEM), var(URL_OTHER));
    let other_root = var(OTHER_ROOT);
    accepted(&system, None);
    refused(
        &other,
        None,
        "certificate for 127.0.0.1 is signed by an unknown authority",
    );
    accepted(&other, Some(&other_root));
    accepted(&system, Some(&other_root));
}

#[test]
fn ssl_cert_file_names_the_trusted_roots() {
    if std::env::var_os(CHILD).is_some() {
        return child_checks();
    }
    let world = world(3);
    let dir = TempDir::new("file");
    let file = dir.0.join("roots.pem");
    std::fs::write(&file, &world.system_root.pem).expect("write roots");
    run_child(
        "ssl_cert_file_names_the_trusted_roots",
        &world,
        &[("SSL_CERT_FILE", file.as_os_str())],
        &["SSL_CERT_DIR"],
    );
    assert_eq!((world.system.served(), world.other.served()), (2, 1));
}

#[test]
fn ssl_cert_dir_names_the_trusted_roots() {
    if std::env::var_os(CHILD).is_some() {
        return child_checks();
    }
    let world = world(3);
    let dir = TempDir::new("dir");
    // Another root beside it, as a directory of many holds.
    let unrelated = root("unrelated root", LONG_AGO, FAR_AHEAD);
    std::fs::write(dir.0.join("system.pem"), &world.system_root.pem).expect("write root");
    std::fs::write(dir.0.join("unrelated.pem"), &unrelated.pem).expect("write root");
    run_child(
        "ssl_cert_dir_names_the_trusted_roots",
        &world,
        &[("SSL_CERT_DIR", dir.0.as_os_str())],
        &["SSL_CERT_FILE"],
    );
    assert_eq!((world.system.served(), world.other.served()), (2, 1));
}
