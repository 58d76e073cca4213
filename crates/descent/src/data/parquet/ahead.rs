//! Read-ahead: a [`RowReader`]'s chunks decoded on a thread of their own while the caller
//! uses the previous one, handed over in order through a bounded channel.
//!
//! The decoding thread owns the reader's decoding state (open files, row group cursors, the
//! CSV chunk's reader) and fills [`ReadyChunk`]s; the reading side swaps each into place
//! and sends the used buffers back, so that after the first few chunks nothing is
//! allocated. Memory: at most [`AHEAD`] decoded chunks wait in the channel, one is being
//! decoded and one is being read (three chunks of [`CHUNK`](super::CHUNK) rows of the
//! chosen columns, against one without read-ahead).
//!
//! The rows, their order, the counts ([`RowReader::dropped`], [`RowReader::opened`], as of
//! the chunk being read) and the errors are those of the reader without read-ahead: a
//! decoding error travels in place of its chunk and is returned when the reader reaches
//! it, and the thread stops there. Dropping the reader ends the thread: the channel closes,
//! so a thread waiting to hand over a chunk stops at once, and one decoding stops after the
//! chunk (the drop waits for it, so that no file stays open behind the reader). A panic on
//! the decoding thread is raised again on the reading thread.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use super::rows::RowReader;
use crate::Result;

/// Decoded chunks that may wait for the reader in the channel.
pub const AHEAD: usize = 1;

/// A decoded chunk with the reader's counts after it (see [`RowReader`]'s fields).
#[derive(Debug, Default)]
pub(super) struct ReadyChunk {
    /// Row-major, the selection's width a row.
    pub rows: Vec<f64>,
    /// The data set's index of each row.
    pub index: Vec<u64>,
    /// One text a row per label column (class targets only).
    pub labels: Vec<Vec<String>>,
    /// The row group, as an index into [`ParquetFiles::row_groups`](super::ParquetFiles).
    pub group: usize,
    pub dropped: u64,
    pub opened: (u64, u64),
}

/// The reading side of a decoding thread.
pub(super) struct Ahead {
    ready: Option<Receiver<Result<ReadyChunk>>>,
    spare: Sender<ReadyChunk>,
    thread: Option<JoinHandle<()>>,
}

impl Ahead {
    /// Starts decoding the chunks of `decoder` (a reader positioned where the caller's
    /// stopped) on a new thread.
    pub fn start(mut decoder: RowReader) -> Self {
        let (ready_tx, ready) = mpsc::sync_channel(AHEAD);
        let (spare, spare_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("descent-read-ahead".into())
            .spawn(move || decode(&mut decoder, &ready_tx, &spare_rx));
        match thread {
            Ok(thread) => Ahead {
                ready: Some(ready),
                spare,
                thread: Some(thread),
            },
            // No thread to be had: nothing ran, and nothing will arrive.
            Err(e) => {
                let (tx, ready) = mpsc::sync_channel(1);
                let _ = tx.send(Err(crate::Error::Data(format!(
                    "cannot start the read-ahead thread ({e}); set DESCENT_READ_AHEAD=0 to read on the training thread"
                ))));
                Ahead {
                    ready: Some(ready),
                    spare,
                    thread: None,
                }
            }
        }
    }

    /// The next decoded chunk, waiting for it; `None` after the last (or after an error
    /// was returned). A panic of the decoding thread is raised here.
    pub fn next(&mut self) -> Result<Option<ReadyChunk>> {
        let ready = self.ready.as_ref().expect("open until dropped");
        match ready.recv() {
            Ok(chunk) => chunk.map(Some),
            Err(mpsc::RecvError) => {
                // The thread has ended: after the last chunk, an error, or a panic.
                if let Some(thread) = self.thread.take() {
                    if let Err(panic) = thread.join() {
                        std::panic::resume_unwind(panic);
                    }
                }
                Ok(None)
            }
        }
    }

    /// Hands a used chunk's buffers back to the decoding thread.
    pub fn recycle(&self, used: ReadyChunk) {
        // The thread may have ended: the buffers then drop here.
        let _ = self.spare.send(used);
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        // Closing the channel first ends a thread waiting to send.
        drop(self.ready.take());
        if let Some(thread) = self.thread.take() {
            // A panic there has been reported by the panic hook; raising it again from a
            // drop could abort.
            let _ = thread.join();
        }
    }
}

/// The decoding thread: chunks until the last, an error, or a closed channel.
fn decode(
    decoder: &mut RowReader,
    ready: &SyncSender<Result<ReadyChunk>>,
    spare: &Receiver<ReadyChunk>,
) {
    loop {
        let mut chunk = spare.try_recv().unwrap_or_default();
        let (message, last) = match decoder.decode_into(&mut chunk) {
            Ok(true) => (Ok(chunk), false),
            Ok(false) => return,
            Err(e) => (Err(e), true),
        };
        if ready.send(message).is_err() || last {
            return;
        }
    }
}
