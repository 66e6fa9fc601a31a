//! Parse files given as arguments and print the parsed/malformed split, by error kind and
//! by format. `-v` also prints each rejected line. Used to check golden figures by hand:
//! `cargo run -p honeybot-logparse --example logstat -- ../shared/data/logs/*.log`
use std::collections::BTreeMap;

fn main() -> std::io::Result<()> {
    let mut verbose = false;
    for arg in std::env::args().skip(1) {
        if arg == "-v" {
            verbose = true;
            continue;
        }
        let data = std::fs::read(&arg)?;
        let (mut parsed, mut malformed) = (0u64, 0u64);
        let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
        let mut formats: BTreeMap<String, u64> = BTreeMap::new();
        for line in data.split_inclusive(|&b| b == b'\n') {
            match honeybot_logparse::parse_line(line) {
                Ok(e) => {
                    parsed += 1;
                    *formats.entry(format!("{:?}", e.format)).or_default() += 1;
                }
                Err(err) => {
                    malformed += 1;
                    *kinds.entry(err.kind()).or_default() += 1;
                    if verbose {
                        println!(
                            "  {}: {}",
                            err.kind(),
                            String::from_utf8_lossy(line).trim_end()
                        );
                    }
                }
            }
        }
        println!("{arg}: parsed {parsed} malformed {malformed} {kinds:?} {formats:?}");
    }
    Ok(())
}
