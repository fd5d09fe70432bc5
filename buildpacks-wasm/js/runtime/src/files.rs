//! The app's files, through wasi:filesystem itself. Module resolution,
//! `require` and node:fs run at staging (inside the snapshot) and in
//! instances, so no file handle may outlive a call: wasi-libc (and so
//! `std::fs`) keeps the preopened directories' handles it looked up, which
//! after a snapshot are the staging store's, unknown to the instance's
//! ("unknown handle index"). Each call here asks for the preopened
//! directories afresh and drops every handle before it returns.

use wasi::filesystem::preopens;
use wasi::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorStat, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

/// The preopened directory holding the absolute `path`, and `path` in it.
fn locate(path: &str) -> Result<(Descriptor, String), ErrorCode> {
    let mut found: Option<(usize, Descriptor, String)> = None;
    for (directory, prefix) in preopens::get_directories() {
        let prefix = prefix.trim_end_matches('/');
        let inside =
            if path == prefix { Some(".") } else { path.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('/')) };
        // The longest prefix wins, as wasi-libc resolves it.
        if let Some(inside) = inside.filter(|_| found.as_ref().is_none_or(|(len, ..)| prefix.len() > *len)) {
            found = Some((prefix.len(), directory, if inside.is_empty() { ".".into() } else { inside.into() }));
        }
    }
    found.map(|(_, directory, inside)| (directory, inside)).ok_or(ErrorCode::NoEntry)
}

/// What is at `path`, following a symbolic link at its end or not.
pub fn stat(path: &str, follow: bool) -> Result<DescriptorStat, ErrorCode> {
    let (directory, inside) = locate(path)?;
    let flags = if follow { PathFlags::SYMLINK_FOLLOW } else { PathFlags::empty() };
    directory.stat_at(flags, &inside)
}

pub fn is_file(path: &str) -> bool {
    stat(path, true).is_ok_and(|s| s.type_ == DescriptorType::RegularFile)
}

pub fn is_dir(path: &str) -> bool {
    stat(path, true).is_ok_and(|s| s.type_ == DescriptorType::Directory)
}

fn open(path: &str, open_flags: OpenFlags) -> Result<Descriptor, ErrorCode> {
    let (directory, inside) = locate(path)?;
    directory.open_at(PathFlags::SYMLINK_FOLLOW, &inside, open_flags, DescriptorFlags::READ)
}

/// Up to `length` bytes of the file from `offset` (all of the rest with none).
pub fn read(path: &str, offset: u64, length: Option<u64>) -> Result<Vec<u8>, ErrorCode> {
    let file = open(path, OpenFlags::empty())?;
    if file.get_type()? == DescriptorType::Directory {
        return Err(ErrorCode::IsDirectory);
    }
    let mut bytes = Vec::new();
    loop {
        let wanted = length.map_or(1 << 20, |length| (length - bytes.len() as u64).min(1 << 20));
        if wanted == 0 {
            return Ok(bytes);
        }
        let (chunk, ended) = file.read(wanted, offset + bytes.len() as u64)?;
        bytes.extend_from_slice(&chunk);
        if ended || chunk.is_empty() {
            return Ok(bytes);
        }
    }
}

/// The entries of a directory: names and kinds.
pub fn list(path: &str) -> Result<Vec<(String, DescriptorType)>, ErrorCode> {
    let directory = open(path, OpenFlags::DIRECTORY)?;
    let entries = directory.read_directory()?;
    let mut listed = Vec::new();
    while let Some(entry) = entries.read_directory_entry()? {
        listed.push((entry.name, entry.type_));
    }
    Ok(listed)
}

/// Node's code for a failure.
pub fn code(error: ErrorCode) -> &'static str {
    match error {
        ErrorCode::NoEntry => "ENOENT",
        ErrorCode::Access | ErrorCode::NotPermitted => "EACCES",
        ErrorCode::NotDirectory => "ENOTDIR",
        ErrorCode::IsDirectory => "EISDIR",
        ErrorCode::ReadOnly => "EROFS",
        ErrorCode::Loop => "ELOOP",
        ErrorCode::NameTooLong => "ENAMETOOLONG",
        _ => "EIO",
    }
}
