//! App packages: reading the zip a client uploads — refusing paths that
//! escape the app (zip-slip), links out of it, and zip bombs — and writing
//! the package the CC stores, byte-for-byte reproducible so equal contents
//! give an equal SHA1.

use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;

/// One file of an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    /// Relative, `/`-separated, never escaping the app.
    pub path: String,
    /// Unix permission bits.
    pub mode: u32,
    pub contents: Vec<u8>,
    /// For a symbolic link: `contents` is its target.
    pub symlink: bool,
}

/// Why an upload was refused, shown to the user.
pub type Refusal = String;

/// Upper bound of how much a zip may inflate in all, and how many times
/// bigger than its compressed bytes (a zip bomb is tiny and huge).
#[derive(Debug, Clone, Copy)]
pub struct UnpackLimits {
    pub max_total_bytes: u64,
    pub max_ratio: u64,
}

/// A path inside the app, or why it is not one. Windows clients write `\`
/// between names: it is read as `/`. Absolute paths — `/x`, a drive (`C:\x`,
/// `C:x`), a UNC share (`\\server\share`), a device path (`\\?\C:\x`) —
/// and `..` are refused, as is a name a Windows DEA could not write as a file
/// (see [`windows_file_name`]) when this host is Windows.
pub fn safe_path(name: &str) -> Result<String, Refusal> {
    safe_path_on(name, cfg!(windows))
}

fn safe_path_on(name: &str, windows_host: bool) -> Result<String, Refusal> {
    let normalized = name.replace('\\', "/");
    if normalized.starts_with('/') || normalized.chars().nth(1) == Some(':') {
        return Err(format!("{name:?} is an absolute path"));
    }
    let mut parts = Vec::new();
    for part in normalized.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(format!("{name:?} points outside the app")),
            p if windows_host && !windows_file_name(p) => {
                return Err(format!("{name:?} cannot be a file on Windows ({p:?})"));
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(format!("{name:?} is not a file name"));
    }
    Ok(parts.join("/"))
}

/// Whether Windows writes `part` as the file of that name: not with `:`
/// (an NTFS alternate stream) or another character Windows refuses, not a
/// device (`CON`, `NUL`, `COM1`…, with any extension), not ending in a dot
/// or space (Windows drops them, so two names would be one file).
fn windows_file_name(part: &str) -> bool {
    const DEVICES: [&str; 4] = ["CON", "PRN", "AUX", "NUL"];
    let stem = part.split('.').next().unwrap_or(part).trim_end().to_ascii_uppercase();
    let numbered_device =
        (stem.starts_with("COM") || stem.starts_with("LPT")) && stem.len() == 4 && stem.as_bytes()[3].is_ascii_digit();
    !part.chars().any(|c| matches!(c, ':' | '<' | '>' | '"' | '|' | '?' | '*') || c < ' ')
        && !DEVICES.contains(&stem.as_str())
        && !numbered_device
        && !part.ends_with(['.', ' '])
}

/// Whether a link at `path` pointing to `target` stays inside the app.
fn link_stays_inside(path: &str, target: &str) -> bool {
    if target.starts_with('/') || target.contains('\\') {
        return false;
    }
    let mut depth: i64 = path.matches('/').count() as i64;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// The files of an uploaded zip.
pub fn read_zip(bytes: &[u8], limits: UnpackLimits) -> Result<Vec<PackageFile>, Refusal> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a valid zip file: {e}"))?;
    let mut files = Vec::new();
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| format!("corrupt zip entry {i}: {e}"))?;
        if entry.is_dir() {
            continue;
        }
        let path = safe_path(entry.name())?;
        let mode = entry.unix_mode().unwrap_or(0o644);
        let symlink = mode & 0o170000 == 0o120000;
        let budget = limits.max_total_bytes.saturating_sub(total);
        let ratio_budget = entry.compressed_size().max(1).saturating_mul(limits.max_ratio).max(64 * 1024);
        let cap = budget.min(ratio_budget);
        let mut contents = Vec::new();
        (&mut entry).take(cap + 1).read_to_end(&mut contents).map_err(|e| format!("corrupt zip entry {path}: {e}"))?;
        if contents.len() as u64 > cap {
            return Err(if cap == budget {
                format!("the app is larger than {} bytes unpacked", limits.max_total_bytes)
            } else {
                format!("{path} inflates more than {} times (zip bomb?)", limits.max_ratio)
            });
        }
        total += contents.len() as u64;
        if symlink {
            let target =
                String::from_utf8(contents.clone()).map_err(|_| format!("link {path} has a non-UTF-8 target"))?;
            if !link_stays_inside(&path, &target) {
                return Err(format!("link {path} points outside the app ({target})"));
            }
        }
        files.push(PackageFile { path, mode: mode & 0o7777, contents, symlink });
    }
    Ok(files)
}

/// The package zip: files sorted by path, fixed timestamps, so the same app
/// always packs to the same bytes.
pub fn write_zip(files: &mut [PackageFile]) -> Result<Vec<u8>, Refusal> {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for file in files.iter() {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(file.mode);
        let result = if file.symlink {
            writer.add_symlink(file.path.as_str(), String::from_utf8_lossy(&file.contents), options)
        } else {
            writer
                .start_file(file.path.as_str(), options)
                .and_then(|_| writer.write_all(&file.contents).map_err(Into::into))
        };
        result.map_err(|e| format!("packing {}: {e}", file.path))?;
    }
    Ok(writer.finish().map_err(|e| e.to_string())?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_stay_inside_the_app() {
        assert_eq!(safe_path("a/./b.txt").unwrap(), "a/b.txt");
        assert!(safe_path("../etc/passwd").is_err());
        assert!(safe_path("a/../../b").is_err());
        assert!(safe_path("/etc/passwd").is_err());
        assert!(safe_path("C:\\x").is_err());
        assert!(link_stays_inside("a/b", "../c"));
        assert!(!link_stays_inside("a/b", "../../c"));
        assert!(!link_stays_inside("a", "/etc"));
    }

    #[test]
    fn windows_separators_are_read_as_slashes() {
        assert_eq!(safe_path("web\\static\\app.css").unwrap(), "web/static/app.css");
        assert_eq!(safe_path("a\\.\\b/c.txt").unwrap(), "a/b/c.txt");
        assert!(safe_path("a\\..\\..\\b").is_err(), "`..` with backslashes still escapes");
        assert!(safe_path("..\\b").is_err());
    }

    #[test]
    fn drive_letters_unc_and_device_paths_are_absolute() {
        for name in [
            "C:\\x",
            "c:/x",
            "C:x",
            "D:",
            "\\\\server\\share\\x",
            "//server/share/x",
            "\\\\?\\C:\\x",
            "\\\\.\\pipe\\p",
            "\\x",
        ] {
            let refusal = safe_path(name).unwrap_err();
            assert!(refusal.contains("absolute"), "{name}: {refusal}");
        }
    }

    #[test]
    fn names_windows_cannot_write_are_refused_on_windows_only() {
        for name in ["notes.txt:hidden", "dir/CON", "nul.txt", "com1.log", "LPT9", "a?b", "trailing.", "dir /x"] {
            assert!(safe_path_on(name, true).unwrap_err().contains("cannot be a file on Windows"), "{name}");
            assert!(safe_path_on(name, false).is_ok(), "{name} is a file name on Linux and macOS");
        }
        for name in ["console.log", "com10.txt", "nullable.js", "a.b.c", "auxiliary/x"] {
            assert!(safe_path_on(name, true).is_ok(), "{name}");
        }
    }
}
