//! The lock a live run holds on its directory: `DIR/run.lock`, holding the process id, locked
//! with `flock(2)` so that the kernel releases it when the process ends however it ends. A
//! second run into the directory (a new one or `--resume`) is refused while the lock is held;
//! a lock file left by a killed run is stale (nobody holds its `flock`) and is taken over.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The lock file's name in a run directory.
pub const LOCK_FILE: &str = "run.lock";

/// A held lock; released (and its file removed) when dropped.
pub struct RunLock {
    path: PathBuf,
    _file: File,
}

impl RunLock {
    /// Locks `dir` (which exists) for this process; also returns the process id of a stale
    /// lock it took over. A lock held by a live process is an error naming its process id.
    pub fn acquire(dir: &Path) -> Result<(Self, Option<u32>)> {
        let path = dir.join(LOCK_FILE);
        loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| format!("cannot create the lock file {}", path.display()))?;
            let holder = read_pid(&mut file);
            if !try_lock(&file)? {
                let holder =
                    holder.map_or_else(|| "another process".into(), |p| format!("process {p}"));
                bail!(
                    "{} is in use by a run that is still going ({holder}, lock file {}); wait for it to finish, or write this run to another directory with another --out",
                    dir.display(),
                    path.display()
                );
            }
            // The holder may have released and removed the file between our open and our
            // lock: then we hold a lock on a file that is no longer the directory's.
            if !same_file(&file, &path) {
                continue;
            }
            let stale = read_pid(&mut file).filter(|&p| p != std::process::id());
            file.set_len(0)
                .and_then(|()| file.seek(SeekFrom::Start(0)).map(drop))
                .and_then(|()| file.write_all(format!("{}\n", std::process::id()).as_bytes()))
                .with_context(|| format!("cannot write the lock file {}", path.display()))?;
            return Ok((RunLock { path, _file: file }, stale));
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Removed while still locked; the lock itself goes when the file is closed.
        let _ = fs::remove_file(&self.path);
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Takes an exclusive lock without waiting; `false` if another process holds one.
#[cfg(unix)]
fn try_lock(file: &File) -> Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: `flock` on a descriptor this `File` owns and keeps open.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EWOULDBLOCK) => Ok(false),
        _ => Err(e).context("cannot lock the run directory"),
    }
}

/// Without `flock`, the lock file only records the process id.
#[cfg(not(unix))]
fn try_lock(_file: &File) -> Result<bool> {
    Ok(true)
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_refuses_a_second_one_and_a_released_one_is_free_again() {
        let dir = std::env::temp_dir().join(format!("descent-lock-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (first, stale) = RunLock::acquire(&dir).unwrap();
        assert_eq!(stale, None);
        let e = RunLock::acquire(&dir).err().unwrap().to_string();
        assert!(
            e.contains(&format!("process {}", std::process::id())),
            "{e}"
        );
        drop(first);
        assert!(!dir.join(LOCK_FILE).exists());
        // A file left by a killed run (a pid, nobody holding it) is taken over.
        fs::write(dir.join(LOCK_FILE), "4194999\n").unwrap();
        let (_again, stale) = RunLock::acquire(&dir).unwrap();
        assert_eq!(stale, Some(4_194_999));
        drop(_again);
        fs::remove_dir_all(&dir).unwrap();
    }
}
