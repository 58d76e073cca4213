//! Every call into the `parquet` crate that reads a file's bytes runs through [`caught`].
//!
//! The crate is not panic-free on corrupt input: some of its decoders index a page buffer by
//! a length or a count the file declares (a PLAIN byte-array page whose values run past its
//! end panics in `read_num_bytes`; upstream reports of the same kind are apache/arrow-rs
//! #11121, #10722, #9434). Checking every such field ourselves would repeat the decoder, and
//! the next release may move the panic elsewhere. [`caught`] turns such a panic into a
//! `ParquetError`, which the caller reports like any other corrupt file, naming the file,
//! row group and column; the panic message is not printed on standard error as a crash.
//! The reader that panicked is dropped with the error.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use parquet::errors::{ParquetError, Result};

thread_local! {
    /// Whether this thread is inside [`caught`]: its panics are reported as errors, not
    /// printed.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `read` (a call into the `parquet` crate); a panic inside it comes back as
/// `ParquetError::General` with the panic's message.
pub(super) fn caught<T>(read: impl FnOnce() -> Result<T>) -> Result<T> {
    quiet_hook();
    let outer = CATCHING.replace(true);
    let outcome = panic::catch_unwind(AssertUnwindSafe(read));
    CATCHING.set(outer);
    outcome.unwrap_or_else(|payload| {
        Err(ParquetError::General(format!(
            "the parquet decoder failed on this data: {}",
            message(payload.as_ref())
        )))
    })
}

/// Installs, once per process, a panic hook that stays silent for panics [`caught`] will
/// report and hands every other panic to the hook that was there before.
fn quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !CATCHING.get() {
                previous(info);
            }
        }));
    });
}

/// The text of a panic's payload (a `&str` or a `String` for `panic!` with a message).
fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_is_an_error_with_its_message() {
        let got: Result<usize> = caught(|| {
            let empty: &[u8] = &[];
            let end = std::hint::black_box(4);
            Ok(empty[..end].len())
        });
        let text = got.unwrap_err().to_string();
        assert!(
            text.contains("the parquet decoder failed on this data"),
            "{text}"
        );
        assert!(
            text.contains("range end index 4 out of range for slice of length 0"),
            "{text}"
        );
    }

    #[test]
    fn values_and_errors_pass_through_and_the_flag_is_restored() {
        assert_eq!(caught(|| Ok(7)).unwrap(), 7);
        let err: Result<()> = caught(|| Err(ParquetError::General("bad page".into())));
        assert_eq!(err.unwrap_err().to_string(), "Parquet error: bad page");
        let _ = caught::<()>(|| panic!("inner"));
        assert!(
            !CATCHING.get(),
            "the thread is no longer catching after the call"
        );
    }
}
