//! How a guest ended when the runtime, not the guest, ended it: the crash
//! reason a DEA reports and a staging log shows.

use std::time::Duration;

/// Why the runtime stopped a guest (rather than the guest ending itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    OutOfMemory {
        limit_mb: u64,
    },
    /// Ran past its wall-clock deadline.
    Deadline,
    /// Spent its whole CPU allowance without waiting on anything.
    Stuck {
        busy: Duration,
    },
    TooManyHandles {
        max: usize,
    },
    /// Any other trap: the guest's own fault.
    Trap(String),
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::OutOfMemory { limit_mb } => write!(f, "out of memory: it needed more than its {limit_mb} MB quota"),
            Ending::Deadline => f.write_str("it ran past its time limit"),
            Ending::Stuck { busy } => {
                write!(f, "stuck: it ran for {:.1}s of CPU without waiting for anything", busy.as_secs_f64())
            }
            Ending::TooManyHandles { max } => {
                write!(f, "too many open handles (files, sockets, streams): the cap is {max}")
            }
            Ending::Trap(message) => write!(f, "it crashed: {message}"),
        }
    }
}

/// An ending carried in an error chain, for callers that tell a guest's
/// own failure from the runtime stopping it (a staging past its deadline).
impl std::error::Error for Ending {}
