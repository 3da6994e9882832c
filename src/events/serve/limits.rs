//! The process's open-file limit (`RLIMIT_NOFILE`): reading it, raising the soft limit to the
//! hard one, and the connection cap that leaves room below it for everything else.

use std::io;

/// Raises this process's soft limit on open files (`RLIMIT_NOFILE`) to its hard limit, as
/// servers do at start, and returns the soft limit now in force.
///
/// The soft limit is often 1,024 while the hard one is far higher; [`serve`](super::serve)
/// keeps its connection cap below the soft limit, so a receiver facing the internet should
/// call this once before serving (`feishu-helpdesk listen` does). It changes the whole
/// process and never lowers a limit. On a platform without `RLIMIT_NOFILE` it fails with
/// [`io::ErrorKind::Unsupported`].
pub fn raise_file_limit() -> io::Result<u64> {
    imp::raise()
}

/// The soft limit on open files, where the platform has one.
pub(super) fn file_limit() -> Option<u64> {
    imp::soft()
}

/// How many files to keep for everything else a process opens (its runtime, logs, Redis, the
/// outgoing HTTP client): an eighth of the limit, at least 64 and at most 1,024, and never
/// more than half of it.
fn headroom(limit: u64) -> u64 {
    (limit / 8).clamp(64, 1024).min(limit / 2)
}

/// The connections a process with `limit` open files may hold: the limit less the headroom,
/// at least 1.
pub(super) fn connections_within(limit: u64) -> usize {
    usize::try_from(limit.saturating_sub(headroom(limit)))
        .unwrap_or(usize::MAX)
        .max(1)
}

#[cfg(unix)]
mod imp {
    use std::io;

    fn get() -> io::Result<libc::rlimit> {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `getrlimit` writes the limit into the struct it is given, which lives here.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(limit)
    }

    /// An `rlim_t` as a count, `RLIM_INFINITY` as `u64::MAX`.
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    fn count(value: libc::rlim_t) -> u64 {
        if value == libc::RLIM_INFINITY {
            u64::MAX
        } else {
            u64::try_from(value).unwrap_or(u64::MAX)
        }
    }

    pub(super) fn soft() -> Option<u64> {
        get().ok().map(|limit| count(limit.rlim_cur))
    }

    pub(super) fn raise() -> io::Result<u64> {
        let mut limit = get()?;
        if limit.rlim_cur == limit.rlim_max {
            return Ok(count(limit.rlim_cur));
        }
        let wanted = limit.rlim_max;
        limit.rlim_cur = wanted;
        // SAFETY: `setrlimit` reads the struct it is given, which lives here.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            // Some systems refuse an infinite soft limit (macOS caps it at OPEN_MAX): the
            // limit stays as it was.
            return Err(io::Error::last_os_error());
        }
        Ok(count(wanted))
    }
}

#[cfg(not(unix))]
mod imp {
    use std::io;

    pub(super) fn soft() -> Option<u64> {
        None
    }

    pub(super) fn raise() -> io::Result<u64> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this platform has no RLIMIT_NOFILE",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::connections_within;

    #[test]
    fn the_cap_leaves_room_below_the_file_limit() {
        assert_eq!(connections_within(1024), 1024 - 128);
        assert_eq!(connections_within(20_000), 20_000 - 1024);
        assert_eq!(connections_within(256), 256 - 64);
        assert_eq!(connections_within(64), 32);
        assert_eq!(connections_within(1), 1);
        assert_eq!(connections_within(0), 1);
    }
}
