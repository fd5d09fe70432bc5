//! The instance files a developer may read (`cf files`): anything under an
//! instance's directory — `app/`, `logs/stdout.log`, `logs/env.log`… —
//! and nothing outside it, links included.

use std::path::Path;

use base64::Engine;

use crate::blobstore::package::safe_path;
use crate::protocol::messages::FilesReply;

/// Largest file served whole.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

fn refused(reason: impl Into<String>) -> FilesReply {
    FilesReply { content_base64: None, error: Some(reason.into()) }
}

/// The file or directory listing at `path` under `root`.
pub fn read(root: &Path, path: &str) -> FilesReply {
    let trimmed = path.trim_matches('/');
    let target = if trimmed.is_empty() {
        root.to_path_buf()
    } else {
        match safe_path(trimmed) {
            Ok(relative) => root.join(relative),
            Err(reason) => return refused(reason),
        }
    };
    // Links may point anywhere: what counts is where the path really is.
    let (Ok(real), Ok(real_root)) = (target.canonicalize(), root.canonicalize()) else {
        return refused(format!("{path} does not exist"));
    };
    if !real.starts_with(&real_root) {
        return refused(format!("{path} is outside the instance"));
    }
    let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    if real.is_dir() {
        let mut entries: Vec<(String, String)> = std::fs::read_dir(&real)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                        let name = format!("{}{}", e.file_name().to_string_lossy(), if is_dir { "/" } else { "" });
                        let size =
                            if is_dir { "-".to_string() } else { human(e.metadata().map(|m| m.len()).unwrap_or(0)) };
                        (name, size)
                    })
                    .collect()
            })
            .unwrap_or_default();
        entries.sort();
        let listing: String = entries.iter().map(|(name, size)| format!("{name:<40} {size}\n")).collect();
        return FilesReply { content_base64: Some(encode(listing.as_bytes())), error: None };
    }
    match std::fs::metadata(&real) {
        Ok(meta) if meta.len() > MAX_FILE_BYTES => refused(format!("{path} is larger than {MAX_FILE_BYTES} bytes")),
        Ok(_) => match std::fs::read(&real) {
            Ok(bytes) => FilesReply { content_base64: Some(encode(&bytes)), error: None },
            Err(e) => refused(format!("{path}: {e}")),
        },
        Err(e) => refused(format!("{path}: {e}")),
    }
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1}M", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{:.1}K", b as f64 / 1024.0),
        b => format!("{b}B"),
    }
}
