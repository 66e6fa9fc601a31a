//! Daemon plumbing shared by the Honeybot services.
//!
//! - [`config`]: strict TOML loading (`deny_unknown_fields` on the caller's struct); errors
//!   name the file, the line and the key.
//! - [`logging`]: the `log` facade to journald (structured fields become journal fields) when
//!   the process' stderr is the journal stream, to stderr otherwise.
//! - [`notify`]: sd-notify READY / STATUS / WATCHDOG; a silent no-op outside systemd.
//! - [`terminal`]: escaping of hostile text for the terminal (controls, ANSI/OSC, bidi).
//! - [`control`]: the shutdown / reload trigger a daemon loop takes as a parameter, fed by
//!   SIGTERM / SIGINT / SIGHUP in production and by the test directly.

pub mod config;
pub mod control;
pub mod logging;
pub mod notify;
/// Text from the network on its way to a terminal: the one escaper, in its own small crate
/// so that libraries without a daemon (honeybot-llm) use the same one.
pub use honeybot_terminal as terminal;

pub use config::{ConfigError, load_toml, parse_toml};
pub use control::Control;
pub use notify::Notifier;
