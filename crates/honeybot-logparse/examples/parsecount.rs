//! Parses the given files twice and prints the number of accepted lines: a fixed workload
//! for counting the parser's instructions when tuning it (no PMU needed):
//! `valgrind --tool=callgrind target/release/examples/parsecount ../shared/data/logs/*.log`
fn main() -> std::io::Result<()> {
    let mut data = Vec::new();
    for arg in std::env::args().skip(1) {
        data.extend_from_slice(&std::fs::read(&arg)?);
    }
    let lines: Vec<&[u8]> = data.split_inclusive(|&b| b == b'\n').collect();
    let mut ok = 0u64;
    for _ in 0..2 {
        for line in &lines {
            if let Ok(e) = honeybot_logparse::parse_line(std::hint::black_box(line)) {
                ok += u64::from(e.status > 0);
            }
        }
    }
    println!("{ok} accepted of {}", lines.len() * 20);
    Ok(())
}
