//! Classifies user agents read from standard input, one per line: `class<TAB>operator<TAB>rule<TAB>agent`.
//! A way to try the table (`cargo run -p honeybot-db --example classify_lines < agents.txt`).

use std::io::BufRead;

fn main() {
    let c = honeybot_db::Classifier::builtin();
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let v = c.classify(&line);
        println!(
            "{}\t{}\t{}\t{}",
            v.class,
            v.operator.unwrap_or("-"),
            v.rule,
            line.escape_debug()
        );
    }
}
