//! The file descriptors a DEA may still open, for its instance budget. An
//! HTTP instance at rest holds none (it is served at the DEA's gateway,
//! its log files are opened per line); a request opens the instance's two
//! directories while it runs; a program holds its port and directories
//! for as long as it runs. A DEA out of descriptors fails every start and
//! request alike, so it offers one instance per descriptor left above a
//! reserve: the room shrinks as programs and requests take descriptors,
//! and is none well before they run out.

/// Descriptors kept for the DEA's own work: requests in flight, its
/// gateway's connections, the bus, the blobstore, downloads, the caches.
const RESERVE: u64 = 1024;

/// How many more instances the descriptors allow, where the system tells
/// (Linux); None elsewhere.
pub fn instance_room() -> Option<u32> {
    let free = free()?;
    Some(free.saturating_sub(RESERVE).min(u64::from(u32::MAX)) as u32)
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
