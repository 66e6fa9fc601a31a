//! `honeybot check`: the full integrity check of a HoneyDB file (every page read once),
//! read-only. Ordinary opens check only the header, the schema and each b-tree's root.

use crate::sanitize::for_terminal;
use crate::{CheckArgs, emit};

pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<()> {
    if !args.db.exists() {
        anyhow::bail!("database {} does not exist", args.db.display());
    }
    let started = std::time::Instant::now();
    honeybot_db::check_file(&args.db)?;
    emit(&format!(
        "{}: ok (every page read in {:.2} s)\n",
        for_terminal(&args.db.display().to_string()),
        started.elapsed().as_secs_f64()
    ))
}
