//! The free space of the filesystem holding the data directory, which the node keeps above a
//! floor (`min_free_disk_mb`) so the store never meets a full disk mid-write.
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Bytes available to this process on the filesystem holding `path` (statvfs `f_bavail`).
pub fn free_bytes(path: &Path) -> io::Result<u64> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path holding NUL"))?;
    // SAFETY: an all-zero `statvfs` is a valid value of the plain C struct it is.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: statvfs reads a NUL-terminated path and writes a `struct statvfs` through a
    // valid pointer to one.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_free_space_of_an_existing_directory_is_read_and_a_missing_one_is_an_error() {
        let dir = tempfile::tempdir().expect("tmp");
        assert!(super::free_bytes(dir.path()).expect("statvfs") > 0);
        assert!(super::free_bytes(&dir.path().join("missing")).is_err());
    }
}
