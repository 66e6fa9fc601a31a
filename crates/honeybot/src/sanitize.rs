//! Log-derived text made safe for a terminal: `honeybot_daemon::terminal`, the one home of
//! terminal escaping (re-exported so the subcommands keep one import path).

pub use honeybot_daemon::terminal::for_terminal;
