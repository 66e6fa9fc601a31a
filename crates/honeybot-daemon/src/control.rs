//! The shutdown / reload trigger of a daemon loop.
//!
//! A [`Control`] is two flags (terminate, reload) plus a wake-up socket the loop can
//! `poll()` next to its other file descriptors, so a request interrupts a wait at once.
//! [`Control::install_signal_handlers`] wires SIGTERM and SIGINT to terminate and SIGHUP to
//! reload; tests instead call [`Control::request_shutdown`] / [`Control::request_reload`]
//! on a clone. A second SIGTERM/SIGINT while the first is being handled exits at once
//! with status 1 (for a stuck shutdown).

use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// Shared trigger; clones refer to the same flags.
#[derive(Debug, Clone)]
pub struct Control {
    terminate: Arc<AtomicBool>,
    reload: Arc<AtomicBool>,
    wake_rx: Arc<UnixStream>,
    wake_tx: Arc<UnixStream>,
}

impl Control {
    pub fn new() -> std::io::Result<Self> {
        let (rx, tx) = UnixStream::pair()?;
        rx.set_nonblocking(true)?;
        tx.set_nonblocking(true)?;
        Ok(Control {
            terminate: Arc::new(AtomicBool::new(false)),
            reload: Arc::new(AtomicBool::new(false)),
            wake_rx: Arc::new(rx),
            wake_tx: Arc::new(tx),
        })
    }

    /// SIGTERM, SIGINT -> terminate; SIGHUP -> reload. Each also wakes the loop.
    pub fn install_signal_handlers(&self) -> std::io::Result<()> {
        for sig in [SIGTERM, SIGINT] {
            // Registered first so it sees the flag before the second handler sets it:
            // only a repeated signal exits immediately.
            signal_hook::flag::register_conditional_shutdown(sig, 1, Arc::clone(&self.terminate))?;
            signal_hook::flag::register(sig, Arc::clone(&self.terminate))?;
        }
        signal_hook::flag::register(SIGHUP, Arc::clone(&self.reload))?;
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal_hook::low_level::pipe::register(sig, self.wake_tx.try_clone()?)?;
        }
        Ok(())
    }

    pub fn request_shutdown(&self) {
        self.terminate.store(true, Ordering::SeqCst);
        self.wake();
    }

    pub fn request_reload(&self) {
        self.reload.store(true, Ordering::SeqCst);
        self.wake();
    }

    pub fn shutdown_requested(&self) -> bool {
        self.terminate.load(Ordering::SeqCst)
    }

    /// True once per reload request.
    pub fn take_reload(&self) -> bool {
        self.reload.swap(false, Ordering::SeqCst)
    }

    /// Readable when a request arrived since the last [`Control::clear_wake`].
    pub fn wake_fd(&self) -> BorrowedFd<'_> {
        self.wake_rx.as_fd()
    }

    /// Drain pending wake-ups (the flags are what counts).
    pub fn clear_wake(&self) {
        let mut buf = [0u8; 64];
        loop {
            match (&*self.wake_rx).read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    }

    fn wake(&self) {
        // A full socket buffer already means "wake up": ignore WouldBlock.
        let _ = (&*self.wake_tx).write(&[1]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reload_is_taken_once_and_shutdown_sticks() {
        let c = Control::new().expect("socketpair");
        let other = c.clone();
        assert!(!c.take_reload());
        other.request_reload();
        assert!(c.take_reload());
        assert!(!c.take_reload());
        assert!(!c.shutdown_requested());
        other.request_shutdown();
        assert!(c.shutdown_requested());
        assert!(c.shutdown_requested());
        c.clear_wake();
    }
}
