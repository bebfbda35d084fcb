//! Small secret files (the node's keys) written so that a crash at any moment leaves either no
//! file (or the old one) or the whole new one, never a truncated key: a temporary file beside
//! it, readable by its owner only, written and synced, then moved into place, then the
//! directory synced.
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The steps of [`write`], reported to the caller (its crash points).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The temporary file exists, empty.
    TempCreated,
    /// The temporary file holds the bytes, synced; the target is untouched.
    TempWritten,
    /// The target holds the bytes; its directory entry is not yet synced.
    Renamed,
}

/// How [`write`] treats an existing file at the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// Fail with `AlreadyExists` and leave it.
    Keep,
    /// Replace it (atomically).
    Replace,
}

/// The temporary file [`write`] uses for `path`: `.NAME.tmp` in the same directory (a leftover
/// from a crash is overwritten by the next write).
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// Writes `bytes` to `path` (mode 0600 on Unix) durably and atomically; `step` is called after
/// each step.
pub fn write(
    path: &Path,
    bytes: &[u8],
    existing: Existing,
    step: impl Fn(Step),
) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    step(Step::TempCreated);
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    step(Step::TempWritten);
    match existing {
        Existing::Replace => std::fs::rename(&tmp, path)?,
        Existing::Keep => {
            // A hard link refuses an existing target, as `create_new` does.
            let linked = std::fs::hard_link(&tmp, path);
            let _ = std::fs::remove_file(&tmp);
            linked?;
        }
    }
    step(Step::Renamed);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_file_is_not_replaced_and_a_replaced_one_is() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("k");
        let steps = std::cell::RefCell::new(Vec::new());
        write(&path, b"one", Existing::Keep, |s| {
            steps.borrow_mut().push(s)
        })
        .expect("write");
        assert_eq!(
            *steps.borrow(),
            [Step::TempCreated, Step::TempWritten, Step::Renamed]
        );
        let err = write(&path, b"two", Existing::Keep, |_| {}).expect_err("exists");
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).expect("read"), b"one");
        write(&path, b"three", Existing::Replace, |_| {}).expect("replace");
        assert_eq!(std::fs::read(&path).expect("read"), b"three");
        assert!(!temp_path(&path).exists(), "no temporary file left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
