//! The file descriptors a DEA may still open, for its instance budget: a
//! program holds its port and its directories, and every request of an
//! HTTP instance opens the instance's directories while it runs — a DEA
//! out of descriptors fails every start and request alike, so it stops
//! offering room well before.

/// Descriptors kept for the DEA's own work: its gateway's connections,
/// the bus, the blobstore, downloads, the caches.
const RESERVE: u64 = 512;
/// What an instance may hold at once (a program: its port, its two
/// directories, a connection).
const PER_INSTANCE: u64 = 4;

/// How many more instances the descriptors allow, where the system tells
/// (Linux); None elsewhere.
pub fn instance_room() -> Option<u32> {
    let free = free()?;
    Some((free.saturating_sub(RESERVE) / PER_INSTANCE).min(u64::from(u32::MAX)) as u32)
}

/// The process's descriptor limit less those open.
#[cfg(target_os = "linux")]
fn free() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes only the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    let open = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    Some(limit.rlim_cur.saturating_sub(open))
}

#[cfg(not(target_os = "linux"))]
fn free() -> Option<u64> {
    None
}
