//! Integration tests of honeybot-ingest with real parts: a real nginx, real SQLite files,
//! the real daemon binary killed with SIGKILL, a real NOTIFY_SOCKET datagram socket.

mod concurrent_import;
mod config_errors;
mod crash;
mod damaged_db;
mod disk_full;
mod hostile_files;
mod locked_db;
mod nginx;
mod notify;
mod polling;
mod support;
