//! `sharesim validate`: check the engine against closed forms on this
//! machine and print one row per check.

use clap::Args;

use sharesim::results::Row;
use sharesim::selfcheck::{run_checks, ValidateOptions};

use super::answer::PrintArgs;
use super::shared::ThreadArgs;
use super::{Failure, Outcome};

/// Check the engine against closed forms (Erlang-C, Pollaczek-Khinchine,
/// Little's law, conservation) on this machine; exits 1 if any fails.
#[derive(Args)]
#[command(mut_arg("threads", |a| a.help("Worker threads (default: all cores)")))]
pub struct ValidateArgs {
    /// Replications per check (at least 5).
    #[arg(long, default_value_t = 20)]
    pub replications: usize,
    /// Measured customers per replication.
    #[arg(long, default_value_t = 400_000.0)]
    pub customers: f64,
    #[command(flatten)]
    pub threads: ThreadArgs,
    #[command(flatten)]
    pub print: PrintArgs,
}

/// Run the checks; [`Outcome::ChecksFailed`] if any fails.
pub fn run(args: &ValidateArgs) -> Result<Outcome, Failure> {
    if args.replications < 5 {
        return Err(Failure::Input(anyhow::anyhow!(
            "--replications must be at least 5 for a t-based confidence interval"
        )));
    }
    if !(args.customers.is_finite() && args.customers >= 1000.0) {
        return Err(Failure::Input(anyhow::anyhow!(
            "--customers must be at least 1000"
        )));
    }
    let pool = args.threads.pool()?;
    let opts = ValidateOptions {
        replications: args.replications,
        customers_per_replication: args.customers,
        ..ValidateOptions::default()
    };
    let started = std::time::Instant::now();
    let results = pool.install(|| run_checks(&opts));
    let rows: Vec<Row> = results.iter().map(|r| r.row()).collect();
    args.print.print(
        &rows,
        &[
            "check",
            "pass",
            "simulated",
            "exact",
            "std_err",
            "z",
            "z_limit",
            "customers",
        ],
    );
    let failed = results.iter().filter(|r| !r.pass).count();
    let verdict = format!(
        "{} passed, {} failed ({:.1} s)",
        results.len() - failed,
        failed,
        started.elapsed().as_secs_f64()
    );
    // After a table for people; beside CSV or JSON, on stderr, so that
    // standard output stays data.
    if args.print.is_table() {
        println!("{verdict}");
    } else {
        eprintln!("{verdict}");
    }
    Ok(if failed == 0 {
        Outcome::Done
    } else {
        Outcome::ChecksFailed
    })
}
