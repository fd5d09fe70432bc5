//! Symbolic links of an app on the DEA's disk. A package or a droplet may
//! hold links (`node_modules/.bin/cli -> ../tool/cli.js`, `current -> v2`);
//! a Unix DEA makes them as they are. Windows lets only administrators (or
//! developer mode) make links, so there — and wherever a file system refuses
//! one — a link becomes a copy of what it points to, as `cf push` from
//! Windows would have uploaded it.
//!
//! A copy is resolved the way the kernel resolves a path, but inside the
//! app only and through the app's own links, never the host's: a target
//! that leaves the app (`/etc/passwd`, `../..`, or a chain of links that
//! together climb out), that loops, or that does not exist is left out and
//! logged, as a dangling link would fail in the app. Copies count against a
//! budget, so links to directories cannot multiply an app past it.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Result, anyhow};

/// A link of the app: where it is (relative, `/`-separated) and its target
/// as stored.
#[derive(Debug)]
pub struct Link {
    pub path: String,
    pub target: String,
}

/// Links followed on one path before it is taken for a loop (Linux's
/// MAXSYMLINKS).
const MAX_HOPS: u32 = 40;

/// Makes `links` under `root`, once every other file of the app is there.
/// `budget` is how many bytes copies may add in all.
pub fn create(root: &Path, links: &[Link], budget: u64) -> Result<()> {
    let mut refused = Vec::new();
    for link in links {
        let path = root.join(&link.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if !symlink(&link.target, &path) {
            refused.push(link);
        }
    }
    if refused.is_empty() {
        return Ok(());
    }
    copy_targets(root, links, &refused, budget)
}

#[cfg(unix)]
fn symlink(target: &str, path: &Path) -> bool {
    std::os::unix::fs::symlink(target, path).is_ok()
}

/// Always a copy: making a link needs a privilege Windows users seldom
/// hold, and a WASI guest sees a copy the same as a link.
#[cfg(not(unix))]
fn symlink(_target: &str, _path: &Path) -> bool {
    false
}

/// Writes a copy of each link of `copies` (some of `links`, all of the
/// app's links, through which targets resolve).
fn copy_targets(root: &Path, links: &[Link], copies: &[&Link], budget: u64) -> Result<()> {
    let mut copier = Copier {
        root,
        links: links.iter().map(|link| (components(&link.path), link.target.as_str())).collect(),
        budget,
        copying: Vec::new(),
    };
    for link in copies {
        let at = components(&link.path);
        let parent = at[..at.len().saturating_sub(1)].to_vec();
        match copier.resolve(parent, &link.target, &mut 0) {
            Some(real) => {
                let dest = root.join(&link.path);
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                copier.copy(&real, &dest)?
            }
            None => tracing::warn!("link {} -> {} leaves the app or loops: left out", link.path, link.target),
        }
    }
    Ok(())
}

fn components(path: &str) -> Vec<String> {
    path.split('/').filter(|part| !part.is_empty() && *part != ".").map(str::to_string).collect()
}

struct Copier<'a> {
    root: &'a Path,
    /// Every link of the app, by its path's components.
    links: HashMap<Vec<String>, &'a str>,
    budget: u64,
    /// The real directories being copied, outermost first: one met again
    /// is a loop.
    copying: Vec<Vec<String>>,
}

impl Copier<'_> {
    /// The path with no link in it that `target`, read in the real
    /// directory `from`, names; `None` when it leaves the app or loops.
    fn resolve(&self, from: Vec<String>, target: &str, hops: &mut u32) -> Option<Vec<String>> {
        if target.starts_with('/') || target.contains('\\') {
            return None;
        }
        let mut real = from;
        for part in target.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    real.pop()?;
                }
                name => {
                    real.push(name.to_string());
                    if let Some(next) = self.links.get(&real) {
                        *hops += 1;
                        if *hops > MAX_HOPS {
                            return None;
                        }
                        real.pop();
                        real = self.resolve(real, next, hops)?;
                    }
                }
            }
        }
        Some(real)
    }

    /// Copies the real file or directory `real` to `dest`; inside a
    /// directory, its links are followed again.
    fn copy(&mut self, real: &[String], dest: &Path) -> Result<()> {
        let source = real.iter().fold(self.root.to_path_buf(), |path, part| path.join(part));
        let Ok(metadata) = std::fs::symlink_metadata(&source) else {
            tracing::warn!("link to {} names nothing in the app: left out", real.join("/"));
            return Ok(());
        };
        if metadata.is_file() {
            self.budget = self
                .budget
                .checked_sub(metadata.len())
                .ok_or_else(|| anyhow!("the app's links copy more than its size limit (at {})", real.join("/")))?;
            std::fs::copy(&source, dest)?;
            return Ok(());
        }
        if !metadata.is_dir() {
            return Ok(());
        }
        if self.copying.iter().any(|outer| outer == real) {
            tracing::warn!("link to {} leads into itself: left out below {}", real.join("/"), dest.display());
            return Ok(());
        }
        std::fs::create_dir_all(dest)?;
        self.copying.push(real.to_vec());
        for name in self.children(&source, real)? {
            let mut child = real.to_vec();
            child.push(name.clone());
            let child = match self.links.get(&child) {
                Some(target) => self.resolve(real.to_vec(), target, &mut 0),
                None => Some(child),
            };
            match child {
                Some(child) => self.copy(&child, &dest.join(&name))?,
                None => tracing::warn!("link {}/{name} leaves the app or loops: left out", real.join("/")),
            }
        }
        self.copying.pop();
        Ok(())
    }

    /// A directory's entries on disk and its links (copies not yet made
    /// are not on disk), each once, in order.
    fn children(&self, source: &Path, real: &[String]) -> Result<Vec<String>> {
        let mut names: Vec<String> = std::fs::read_dir(source)?
            .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<std::io::Result<_>>()?;
        names.extend(
            self.links
                .keys()
                .filter(|path| path.len() == real.len() + 1 && path.starts_with(real))
                .map(|path| path[real.len()].clone()),
        );
        names.sort();
        names.dedup();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, contents) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        dir
    }

    fn copy_all(root: &Path, links: &[(&str, &str)], budget: u64) -> Result<()> {
        let links: Vec<Link> =
            links.iter().map(|(path, target)| Link { path: path.to_string(), target: target.to_string() }).collect();
        let all: Vec<&Link> = links.iter().collect();
        copy_targets(root, &links, &all, budget)
    }

    fn read(root: &Path, path: &str) -> Option<String> {
        std::fs::read_to_string(root.join(path)).ok()
    }

    #[test]
    fn links_to_files_and_directories_become_copies() {
        let dir = app(&[("v2/index.html", "v2"), ("v2/css/app.css", "css"), ("lib/tool/cli.js", "cli")]);
        let root = dir.path();
        copy_all(
            root,
            &[
                ("current", "v2"),
                ("index.html", "current/index.html"),
                ("node_modules/.bin/cli", "../../lib/tool/cli.js"),
            ],
            1 << 20,
        )
        .unwrap();
        assert_eq!(read(root, "current/index.html").as_deref(), Some("v2"));
        assert_eq!(read(root, "current/css/app.css").as_deref(), Some("css"));
        assert_eq!(read(root, "index.html").as_deref(), Some("v2"), "through another link");
        assert_eq!(read(root, "node_modules/.bin/cli").as_deref(), Some("cli"));
        assert!(!std::fs::symlink_metadata(root.join("current")).unwrap().file_type().is_symlink());
    }

    #[test]
    fn a_directory_copied_takes_the_links_inside_it() {
        let dir = app(&[("shared/data.txt", "data"), ("a/b.txt", "b")]);
        let root = dir.path();
        copy_all(root, &[("a/data", "../shared/data.txt"), ("copy", "a")], 1 << 20).unwrap();
        assert_eq!(read(root, "copy/b.txt").as_deref(), Some("b"));
        assert_eq!(read(root, "copy/data").as_deref(), Some("data"), "a/data resolved from a, not from copy");
    }

    #[test]
    fn targets_outside_the_app_are_left_out() {
        let outside = app(&[("secret", "host file")]);
        let dir = app(&[("sub/x", "x")]);
        let root = dir.path();
        let absolute = outside.path().join("secret").display().to_string();
        copy_all(
            root,
            &[
                ("abs", absolute.as_str()),
                ("up", "../secret"),
                ("sub/root", ".."),
                ("sub/climb", "root/.."),
                ("chain", "sub/climb/secret"),
                ("backslash", "..\\secret"),
                ("missing", "nothing-here"),
            ],
            1 << 20,
        )
        .unwrap();
        for left_out in ["abs", "up", "sub/climb", "chain", "backslash", "missing"] {
            assert!(std::fs::symlink_metadata(root.join(left_out)).is_err(), "{left_out} was made");
        }
        assert_eq!(read(root, "sub/root/sub/x").as_deref(), Some("x"), "`..` inside the app is copied");
    }

    #[test]
    fn loops_end_and_copies_keep_to_the_budget() {
        let dir = app(&[("a/file", "0123456789")]);
        let root = dir.path();
        copy_all(root, &[("a/self", "."), ("ping", "pong"), ("pong", "ping")], 1 << 20).unwrap();
        assert_eq!(read(root, "a/self/file").as_deref(), Some("0123456789"));
        assert!(std::fs::symlink_metadata(root.join("a/self/self")).is_err(), "the loop stops at once");
        assert!(std::fs::symlink_metadata(root.join("ping")).is_err());

        let dir = app(&[("big", "0123456789")]);
        let error = copy_all(dir.path(), &[("one", "big"), ("two", "big")], 15).unwrap_err();
        assert!(error.to_string().contains("more than its size limit"), "{error}");
    }
}
