//! [`DirectFile`]: a write-only output file that bypasses the page cache (`O_DIRECT`) and
//! writes on a thread of its own.
//!
//! Gigabytes written through the page cache cost the kernel a copy of every byte into a
//! freshly allocated page, then a writeback; on a small machine that copy is as expensive
//! as a SHA-256 pass. A direct write sends an aligned buffer to the disk as it is. Bytes are
//! gathered into aligned blocks of [`BLOCK`] bytes (a cheap user-space copy); full blocks go
//! to a writer thread through a short queue ([`QUEUE`] blocks), so the caller goes on hashing
//! while the disk works instead of waiting for each write. The unaligned tail goes through
//! the page cache at the end.
//!
//! Filesystems without `O_DIRECT` (tmpfs) or with stricter alignment rules are handled by
//! falling back to ordinary writes, so the result is the same everywhere; only the cost
//! differs. Memory: at most `QUEUE + 2` blocks per file.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Alignment of buffer address, file offset and length that every Linux filesystem accepts.
const ALIGN: usize = 4096;
/// Bytes gathered before one write.
pub(crate) const BLOCK: usize = 1 << 20;
/// Full blocks that may wait for the writer thread.
const QUEUE: usize = 4;

/// An aligned block: `buffer[start..start + BLOCK]` is `ALIGN`-aligned in memory.
struct Block {
    buffer: Vec<u8>,
    start: usize,
}

impl Block {
    fn new() -> Block {
        let buffer = vec![0u8; BLOCK + ALIGN];
        let start = buffer.as_ptr().align_offset(ALIGN);
        Block { buffer, start }
    }

    fn bytes(&self, len: usize) -> &[u8] {
        &self.buffer[self.start..self.start + len]
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buffer[self.start..self.start + BLOCK]
    }
}

enum Job {
    /// Write a full block at this offset, then hand the block back for reuse.
    Write(Block, u64),
    /// Answer once every earlier job is done.
    Drain(SyncSender<()>),
}

pub(crate) struct DirectFile {
    file: Arc<File>,
    /// The block being filled, `filled` bytes so far.
    block: Block,
    filled: usize,
    /// Bytes already handed to the writer (the file offset of `block`).
    queued: u64,
    jobs: Option<SyncSender<Job>>,
    spare: Receiver<Block>,
    /// The writer's first error; once set, nothing more is written.
    failed: Arc<Mutex<Option<io::Error>>>,
    writer: Option<JoinHandle<()>>,
    direct: Arc<Mutex<bool>>,
}

impl DirectFile {
    /// Creates `path`, which must not exist.
    pub fn create_new(path: &Path) -> io::Result<DirectFile> {
        let opened = File::options()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_DIRECT)
            .open(path);
        let (file, direct) = match opened {
            Ok(file) => (file, true),
            // EINVAL: the filesystem does not do O_DIRECT (the file may exist by now).
            Err(error) if error.raw_os_error() == Some(libc::EINVAL) => {
                let file = File::options()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(path)?;
                (file, false)
            }
            Err(error) => return Err(error),
        };
        let file = Arc::new(file);
        let direct = Arc::new(Mutex::new(direct));
        let failed = Arc::new(Mutex::new(None));
        let (jobs, queue) = sync_channel::<Job>(QUEUE);
        let (give_back, spare) = sync_channel::<Block>(QUEUE + 1);
        let writer = {
            let (file, direct, failed) = (file.clone(), direct.clone(), failed.clone());
            std::thread::Builder::new()
                .name("repack-direct-write".into())
                .spawn(move || write_jobs(&file, &direct, &failed, queue, give_back))?
        };
        Ok(DirectFile {
            file,
            block: Block::new(),
            filled: 0,
            queued: 0,
            jobs: Some(jobs),
            spare,
            failed,
            writer: Some(writer),
            direct,
        })
    }

    pub fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let room = (BLOCK - self.filled).min(data.len());
            self.block.bytes_mut()[self.filled..self.filled + room].copy_from_slice(&data[..room]);
            self.filled += room;
            data = &data[room..];
            if self.filled == BLOCK {
                self.check()?;
                let next = self.spare.try_recv().unwrap_or_else(|_| Block::new());
                let full = std::mem::replace(&mut self.block, next);
                self.send(Job::Write(full, self.queued))?;
                self.queued += BLOCK as u64;
                self.filled = 0;
            }
        }
        Ok(())
    }

    fn send(&self, job: Job) -> io::Result<()> {
        self.jobs
            .as_ref()
            .and_then(|jobs| jobs.send(job).ok())
            .ok_or_else(|| io::Error::other("the writer thread stopped"))
    }

    /// The writer's first error, if any.
    fn check(&self) -> io::Result<()> {
        match self.failed.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Waits until every queued block is written.
    fn drain(&self) -> io::Result<()> {
        let (done, wait) = sync_channel(1);
        self.send(Job::Drain(done))?;
        wait.recv()
            .map_err(|_| io::Error::other("the writer thread stopped"))?;
        self.check()
    }

    /// Writes the gathered bytes at their place through the page cache (they are not a
    /// full aligned block).
    fn write_partial(&self) -> io::Result<()> {
        if self.filled == 0 {
            return Ok(());
        }
        let mut direct = self.direct.lock().unwrap_or_else(|e| e.into_inner());
        if *direct {
            clear_direct(&self.file)?;
        }
        let written = self
            .file
            .write_all_at(self.block.bytes(self.filled), self.queued);
        if *direct && set_direct(&self.file).is_err() {
            *direct = false;
        }
        written
    }

    /// Makes every byte written so far durable, including the gathered ones (the full block
    /// overwrites them later).
    pub fn sync(&mut self) -> io::Result<()> {
        self.drain()?;
        self.write_partial()?;
        self.file.sync_data()
    }

    /// Writes what is left and makes the file durable.
    pub fn finish(mut self) -> io::Result<()> {
        self.drain()?;
        self.write_partial()?;
        self.stop();
        self.file.sync_all()
    }

    /// Closes the file without writing what is still gathered (it is about to be removed).
    pub fn abandon(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.jobs = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl Drop for DirectFile {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The writer thread: writes blocks in order until the queue closes.
fn write_jobs(
    file: &File,
    direct: &Mutex<bool>,
    failed: &Mutex<Option<io::Error>>,
    queue: Receiver<Job>,
    give_back: SyncSender<Block>,
) {
    let mut broken = false;
    for job in queue {
        match job {
            Job::Write(block, offset) => {
                if !broken && let Err(error) = write_block(file, direct, block.bytes(BLOCK), offset)
                {
                    broken = true;
                    *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
                }
                let _ = give_back.try_send(block);
            }
            Job::Drain(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// One aligned block, directly if the file allows it, else through the page cache.
fn write_block(file: &File, direct: &Mutex<bool>, bytes: &[u8], offset: u64) -> io::Result<()> {
    let mut direct = direct.lock().unwrap_or_else(|e| e.into_inner());
    if *direct {
        match file.write_all_at(bytes, offset) {
            Ok(()) => return Ok(()),
            Err(error) if error.raw_os_error() == Some(libc::EINVAL) => {
                clear_direct(file)?;
                *direct = false;
            }
            Err(error) => return Err(error),
        }
    }
    file.write_all_at(bytes, offset)
}

/// Switches a descriptor back to direct writes.
fn set_direct(file: &File) -> io::Result<()> {
    set_flags(file, |flags| flags | libc::O_DIRECT)
}

/// Switches a descriptor to ordinary (page cache) writes.
fn clear_direct(file: &File) -> io::Result<()> {
    set_flags(file, |flags| flags & !libc::O_DIRECT)
}

fn set_flags(file: &File, change: impl FnOnce(i32) -> i32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor that is open for the whole call, integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, change(flags)) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
