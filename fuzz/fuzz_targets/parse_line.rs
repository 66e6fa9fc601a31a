//! Any bytes: `parse_line` must return (never panic), every accepted field must be a slice of
//! the input, and `unescape` of every field must not panic either.
#![no_main]

use honeybot_logparse::{Request, parse_line, unescape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(entry) = parse_line(data) else {
        return;
    };
    let range = data.as_ptr_range();
    let within = |field: &[u8]| {
        let r = field.as_ptr_range();
        assert!(field.is_empty() || (range.start <= r.start && r.end <= range.end));
        let _ = unescape(field);
    };
    within(entry.remote_addr);
    for field in [
        entry.vhost,
        entry.remote_user,
        entry.referer,
        entry.user_agent,
        entry.accept,
        entry.markdown_served,
        entry.host,
        entry.request_time,
    ]
    .into_iter()
    .flatten()
    {
        within(field);
    }
    match entry.request {
        Request::Http { method, target, protocol } => {
            within(method);
            within(target);
            protocol.map(within);
        }
        Request::Raw(raw) => within(raw),
    }
    let _ = (entry.time.unix_seconds(), entry.time.date_utc().to_string());
});
