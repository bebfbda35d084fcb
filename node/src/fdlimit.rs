//! The process's open-file limit: the node raises its soft `RLIMIT_NOFILE` to the hard limit at
//! start, so RocksDB and the RPC listener get every descriptor the system grants, and sizes the
//! RPC connection cap from what it got.
use thiserror::Error;

/// The open-file limit could not be read.
#[derive(Debug, Error)]
#[error("reading the open-file limit (getrlimit RLIMIT_NOFILE): {0}")]
pub struct LimitError(#[source] std::io::Error);

/// The open-file limits of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NofileLimit {
    /// The limit in force.
    pub soft: u64,
    /// The most the soft limit may be raised to.
    pub hard: u64,
}

/// This process's open-file limits.
pub fn current() -> Result<NofileLimit, LimitError> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes a `struct rlimit` through a valid pointer to one.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(LimitError(std::io::Error::last_os_error()));
    }
    Ok(NofileLimit {
        soft: lim.rlim_cur,
        hard: lim.rlim_max,
    })
}

/// Raises the soft open-file limit to the hard one; returns the limits in force afterwards.
/// A refusal to raise is logged and the node runs with the limit it had.
pub fn raise_to_hard() -> Result<NofileLimit, LimitError> {
    let before = current()?;
    if before.soft < before.hard {
        let lim = libc::rlimit {
            rlim_cur: before.hard,
            rlim_max: before.hard,
        };
        // SAFETY: setrlimit reads a `struct rlimit` through a valid pointer to one.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            tracing::warn!(
                soft = before.soft,
                hard = before.hard,
                error = %std::io::Error::last_os_error(),
                "could not raise the open-file limit"
            );
        }
    }
    current()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_lifts_a_lowered_soft_limit_to_the_hard_limit() {
        let before = current().expect("limits");
        // Lower the soft limit by one (harmless to the other tests), so raising has work to do.
        let lowered = libc::rlimit {
            rlim_cur: before.hard - 1,
            rlim_max: before.hard,
        };
        // SAFETY: setrlimit reads a `struct rlimit` through a valid pointer to one.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lowered) }, 0);
        assert_eq!(current().expect("limits").soft, before.hard - 1);
        let after = raise_to_hard().expect("limits");
        assert_eq!(after.soft, before.hard);
        assert_eq!(after.hard, before.hard);
    }
}
