//! honeybot-narrator: articles and events read aloud by a local neural voice.
//!
//! Markdown or text becomes speakable sentences ([`markdown`], [`sentences`], [`pronounce`]),
//! an [`engine`] (piper, espeak-ng) turns each sentence into samples, a [`sink`] plays them or
//! writes a WAV file, and [`daemon`] serves all of it on a Unix control socket ([`protocol`]);
//! [`client`] is the other end of that socket.

pub mod audio;
pub mod client;
pub mod config;
pub mod daemon;
pub mod engine;
pub mod input;
pub mod markdown;
pub mod pronounce;
pub mod protocol;
pub mod sentences;
pub mod sink;
pub mod speak;
