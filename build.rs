//! Lets the server link against PAM on a machine that has only the runtime
//! library (`libpam.so.0`) and not the `-dev` package's `libpam.so` symlink.
//! pam-sys asks the linker for `-lpam -lpam_misc`; when the unversioned names
//! are missing we create them in OUT_DIR and add that directory to the search
//! path. Nothing here needs headers: pam-sys ships its own declarations.

use std::path::{Path, PathBuf};

const LIB_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/lib64",
    "/usr/lib",
    "/lib",
];

fn find(name: &str) -> Option<PathBuf> {
    LIB_DIRS
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let Some(out) = std::env::var_os("OUT_DIR") else {
        return;
    };
    let link_dir = Path::new(&out).join("pamlink");
    if std::fs::create_dir_all(&link_dir).is_err() {
        return;
    }
    for lib in ["pam", "pam_misc"] {
        let dev_name = format!("lib{lib}.so");
        if find(&dev_name).is_some() {
            continue;
        }
        let Some(runtime) = find(&format!("lib{lib}.so.0")) else {
            println!("cargo:warning=lib{lib}.so.0 not found: install the libpam0g package");
            continue;
        };
        let link = link_dir.join(&dev_name);
        let _ = std::fs::remove_file(&link);
        if let Err(e) = std::os::unix::fs::symlink(&runtime, &link) {
            println!("cargo:warning=cannot link {}: {e}", link.display());
        }
    }
    println!("cargo:rustc-link-search=native={}", link_dir.display());
}
