//! `honeybot reclassify`: recompute stored classes and kinds, print what changed.

use std::fmt::Write as _;

use honeybot_db::{DbOptions, HoneyDb, Reclassified};

use crate::sanitize::for_terminal;
use crate::{OutputFormat, ReclassifyArgs, emit};

pub(crate) fn run(args: &ReclassifyArgs) -> anyhow::Result<()> {
    if !args.db.exists() {
        anyhow::bail!("database {} does not exist", args.db.display());
    }
    let mut options = DbOptions::default();
    args.classify.apply(&mut options)?;
    let mut db = HoneyDb::open(&args.db, &options)?;
    // Opening already brings a database classified with other rules up to date; the
    // explicit pass then finds the rest (nothing, unless rows were edited by hand).
    let mut done = db.opened().clone();
    done.merge(db.reclassify()?);
    let mut out = String::new();
    match args.format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string(&done)?)?,
        OutputFormat::Text => text(&mut out, &args.db.display().to_string(), &done)?,
    }
    emit(&out)
}

fn text(out: &mut String, db: &str, done: &Reclassified) -> std::fmt::Result {
    writeln!(
        out,
        "{}: {} user agents and {} paths checked; {} user agents and {} paths changed.",
        for_terminal(db),
        done.user_agents_checked,
        done.paths_checked,
        done.user_agents.len(),
        done.paths.iter().map(|c| c.paths).sum::<u64>()
    )?;
    let none = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
    for c in &done.user_agents {
        let ua = if c.user_agent.is_empty() {
            "(empty)"
        } else {
            &c.user_agent
        };
        writeln!(
            out,
            "  {} -> {}  operator {} -> {}  by {}  {}",
            none(&c.old_class),
            c.new_class,
            for_terminal(&none(&c.old_operator)),
            for_terminal(&none(&c.new_operator)),
            for_terminal(&c.rule),
            for_terminal(ua)
        )?;
    }
    for c in &done.paths {
        writeln!(
            out,
            "  paths {} -> {}: {}",
            none(&c.old_kind),
            c.new_kind,
            c.paths
        )?;
    }
    Ok(())
}
