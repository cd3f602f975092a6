//! Ctrl-C. A verb that streams its output polls [`check`] between blocks and stops cleanly
//! (its partial file is deleted); any other verb is ended by the handler at once, with a
//! message, before it has renamed anything into place.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static POLLED: AtomicBool = AtomicBool::new(false);

/// The exit status of a run ended by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Installs the handler (once, at start-up). Failing to install it only loses the message.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        // A second Ctrl-C while a polled stop is under way ends the process outright.
        if POLLED.load(Ordering::SeqCst) && !INTERRUPTED.swap(true, Ordering::SeqCst) {
            return;
        }
        eprintln!("ndstride: interrupted; no output file was completed");
        std::process::exit(EXIT_INTERRUPTED.into());
    });
}

/// From now on Ctrl-C is reported through [`check`] instead of ending the process.
pub fn poll_from_now() {
    POLLED.store(true, Ordering::SeqCst);
}

/// `Err(Cancelled)` once Ctrl-C was pressed.
pub fn check() -> ndstride::Result<()> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        return Err(ndstride::Error::Cancelled("interrupted (Ctrl-C)".into()));
    }
    Ok(())
}
