//! `sharesim estimate`: the closed-form answer of every placement at every
//! pool size, in well under a second ([`sharesim::sizing::estimate_rows`]:
//! the sizing search's first guess, uncapped). The same estimate sits
//! beside every simulated size in sizing.parquet, where its error against
//! the simulation is `estimate_error_share`.

use clap::Args;

use sharesim::output::terminal::{wrap_words, Column, Unit};
use sharesim::results::{cell, Row, Value};
use sharesim::scenario::Scenario;
use sharesim::sizing::estimate_rows;
use sharesim::sweep::Sweep;

use super::answer::{terminal_width, PrintArgs};
use super::{Failure, Outcome};

/// Print the closed-form size of every placement at every pool size,
/// without simulating: Erlang-C for a wait-tail target of a generic fleet,
/// ceil(a) for batching LLM servers, else square-root staffing a + sqrt(a)
/// on the peak offered load a, where
/// a batching LLM server's capacity comes from the step model at its
/// saturated batch; dedicated placements one device per user. `sharesim
/// size` simulates the answer (its sizing.parquet carries this estimate
/// beside it); docs/model.md shows the estimate's error on the shipped
/// scenarios. A bad scenario exits 2 as `run`.
#[derive(Args)]
pub struct EstimateArgs {
    /// Scenario file (TOML); with a [sweep] table, every point.
    pub scenario: std::path::PathBuf,
    /// No notes on standard error.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub print: PrintArgs,
}

pub fn run(args: &EstimateArgs) -> Result<Outcome, Failure> {
    let path = &args.scenario;
    let has_sweep = sharesim::scenario::read_scenario_text(path)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("sweep"));
    // A sweep: every point's rows, its axis values first.
    let (name, rows, keys) = if has_sweep {
        let sweep = Sweep::load(path).map_err(anyhow::Error::from)?;
        let mut rows = Vec::new();
        for point in &sweep.points {
            for r in estimate_rows(&point.scenario) {
                let mut row: Row = point
                    .assignments
                    .iter()
                    .map(|(k, v)| {
                        cell(
                            format!("sweep_{k}"),
                            Value::Str(super::explain::axis_value(v)),
                        )
                    })
                    .collect();
                row.push(cell("point_id", Value::Str(point.id.clone())));
                row.extend(r);
                rows.push(row);
            }
        }
        (sweep.name.clone(), rows, sweep.keys.clone())
    } else {
        let s = Scenario::load(path).map_err(anyhow::Error::from)?;
        (s.name.clone(), estimate_rows(&s), Vec::new())
    };
    let width = terminal_width();
    let c = Column::new;
    let mut columns: Vec<Column> = keys
        .iter()
        .map(|k| {
            let h = super::answer::column(&format!("sweep_{k}"));
            Column::new(h.name, h.header, Unit::Text)
        })
        .collect();
    columns.extend([
        c("placement", "placement", Unit::Text),
        c("kind", "kind", Unit::Text),
        c("pool_size", "pool of", Unit::Count),
        c(
            "peak_load_erlangs_per_pool",
            "peak load (servers' worth)",
            Unit::Number,
        ),
        c(
            "estimate_servers_per_pool",
            "estimate: servers per pool",
            Unit::Count,
        ),
        c("estimate_servers_total", "servers", Unit::Count),
        c(
            "estimate_devices_per_user",
            "devices per user",
            Unit::Number,
        ),
        c(
            "estimate_sharing_factor_devices",
            "devices factor",
            Unit::Factor,
        ),
        c("estimate_method", "method", Unit::Text),
    ]);
    if args.print.is_table() {
        for l in wrap_words(
            &format!(
                "scenario {name} ({}): closed-form estimate, nothing simulated{}",
                path.display(),
                if keys.is_empty() {
                    ""
                } else {
                    ", every sweep point"
                }
            ),
            width,
        ) {
            println!("{l}");
        }
    }
    print!("{}", args.print.render(&rows, &columns, width));
    if args.print.is_table() {
        for r in &rows {
            let get = |c: &str| sharesim::results::get(r, c).map(Value::display);
            if let Some(reason) = get("reason").filter(|t| !t.is_empty()) {
                let who = get("placement").unwrap_or_default();
                let k = get("pool_size").unwrap_or_default();
                for l in wrap_words(
                    &format!("{who}, pools of {k}: no estimate: {reason}"),
                    width,
                ) {
                    println!("{l}");
                }
            }
        }
    }
    if !args.quiet {
        eprintln!("estimated without simulating: `sharesim size` simulates the answer (sizing.parquet's estimate_error_share is this estimate's error)");
    }
    Ok(Outcome::Done)
}
