//! The citizen wallet's static files, served on the RPC address under `/wallet/` by the
//! listener (no second server): the page, its script and style, and the WebAssembly core that
//! `scripts/build-wallet` writes to `target/wallet-www/`. The node looks for them in
//! `CIVITAS_WALLET_DIR`, else in `wallet-www/` beside the directory of its own binary (so
//! `target/debug/civitas` and `target/release/civitas` both find `target/wallet-www/`).
//!
//! Only plain file names inside that one directory are served (no `/`, no `..`, no hidden
//! files); anything else under `/wallet/` is a 404.
use std::path::{Path, PathBuf};

/// The path prefix the wallet is served under.
pub const PREFIX: &str = "/wallet";

/// Where the wallet's files are, if anywhere.
#[derive(Debug, Clone)]
pub struct WalletFiles {
    dir: Option<PathBuf>,
}

/// A response to a request under [`PREFIX`].
#[derive(Debug, PartialEq, Eq)]
pub struct FileResponse {
    /// HTTP status.
    pub status: u16,
    /// `content-type`.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
    /// `location` (the redirect of `/wallet` to `/wallet/`).
    pub location: Option<&'static str>,
}

impl WalletFiles {
    /// The directory found from the environment and the binary's location (it may not exist
    /// yet: the wallet can be built while the node runs).
    pub fn discover() -> WalletFiles {
        let dir = std::env::var_os("CIVITAS_WALLET_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                let exe = std::env::current_exe().ok()?;
                Some(exe.parent()?.parent()?.join("wallet-www"))
            });
        WalletFiles { dir }
    }

    /// Files from `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> WalletFiles {
        WalletFiles {
            dir: Some(dir.into()),
        }
    }

    /// Whether `path` is the wallet's.
    pub fn claims(path: &str) -> bool {
        path == PREFIX || path.starts_with("/wallet/")
    }

    /// The response to a `GET` of `path` (one of [`WalletFiles::claims`]).
    pub fn respond(&self, path: &str) -> FileResponse {
        if path == PREFIX {
            return FileResponse {
                status: 308,
                content_type: "text/plain; charset=utf-8",
                body: b"see /wallet/".to_vec(),
                location: Some("/wallet/"),
            };
        }
        let name = match path.strip_prefix("/wallet/") {
            Some("") => "index.html",
            Some(n) => n,
            None => return not_found("no such file"),
        };
        if !plain_name(name) {
            return not_found("no such file");
        }
        let Some(dir) = &self.dir else {
            return not_found("the wallet's directory is unknown (set CIVITAS_WALLET_DIR)");
        };
        match std::fs::read(dir.join(name)) {
            Ok(body) => FileResponse {
                status: 200,
                content_type: content_type(name),
                body,
                location: None,
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && name == "index.html" => {
                not_found(&format!(
                    "the wallet is not built: run scripts/build-wallet (looked in {})",
                    dir.display()
                ))
            }
            Err(e) => {
                tracing::debug!(file = %Path::new(name).display(), error = %e, "wallet file not served");
                not_found("no such file")
            }
        }
    }
}

fn not_found(why: &str) -> FileResponse {
    FileResponse {
        status: 404,
        content_type: "text/plain; charset=utf-8",
        body: why.as_bytes().to_vec(),
        location: None,
    }
}

/// One path segment of letters, digits, `-`, `_` and `.`, not starting with `.`.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    //! Files are served from the wallet directory only, with their types.
    use super::*;

    #[test]
    fn files_are_served_from_the_directory_and_nothing_outside_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("index.html"), "<h1>wallet</h1>").expect("write");
        std::fs::write(dir.path().join("core_bg.wasm"), [0, 97, 115, 109]).expect("write");
        std::fs::write(dir.path().join(".secret"), "x").expect("write");
        let files = WalletFiles::in_dir(dir.path().join("."));
        let index = files.respond("/wallet/");
        assert_eq!(
            (index.status, index.body.as_slice()),
            (200, &b"<h1>wallet</h1>"[..])
        );
        assert_eq!(index.content_type, "text/html; charset=utf-8");
        assert_eq!(
            files.respond("/wallet/core_bg.wasm").content_type,
            "application/wasm"
        );
        assert_eq!(files.respond("/wallet").location, Some("/wallet/"));
        for bad in [
            "/wallet/../Cargo.toml",
            "/wallet/a/b",
            "/wallet/.secret",
            "/wallet/%2e%2e",
        ] {
            assert_eq!(files.respond(bad).status, 404, "{bad}");
        }
        let missing = WalletFiles::in_dir(dir.path().join("nowhere")).respond("/wallet/");
        assert_eq!(missing.status, 404);
        assert!(String::from_utf8_lossy(&missing.body).contains("scripts/build-wallet"));
        assert!(WalletFiles::claims("/wallet/x") && WalletFiles::claims("/wallet"));
        assert!(!WalletFiles::claims("/walletx") && !WalletFiles::claims("/"));
    }
}
