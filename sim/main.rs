//! The `sharesim` executable: parse the command line, run the command (each
//! lives in [`cli`]), print a failure with its causes, and decide the exit
//! code. Only the binary (this file and `cli/`) prints; the library returns
//! values and typed errors.
//!
//! Exit codes, decided here only: 0 success, 1 a check failed or an internal
//! error, 2 bad input (scenario, arguments, output folder), 130 a sweep
//! stopped by Ctrl-C. (clap exits 2 by itself on a command line it cannot
//! parse, 0 after printing help or the version.)

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Parser;
use sharesim::core::printable;

mod cli;

use cli::{Cli, Command, Failure, Outcome};

/// Stopped by Ctrl-C, the shell's convention (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    quiet_on_a_closed_pipe();
    let result = match Cli::parse().command {
        Command::Run(args) => cli::run::run(&args),
        Command::Size(args) => cli::size::run(&args),
        Command::Sweep(args) => cli::sweep::run(&args, stop_on_ctrl_c),
        Command::Uncertainty(args) => cli::uncertainty::run(&args, stop_on_ctrl_c),
        Command::Plot(args) => cli::plot::run(&args),
        Command::Merge(args) => cli::merge::run(&args),
        Command::Calibrate(args) => cli::calibrate::run(&args),
        Command::Validate(args) => cli::validate::run(&args),
        Command::FitTrace(args) => cli::fit_trace::run(&args),
        Command::Explain(args) => cli::explain::run(&args),
        Command::Estimate(args) => cli::estimate::run(&args),
        Command::Catalog(args) => cli::catalog::run(&args),
        Command::Completions(args) => cli::completions::run(&args),
    };
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::ChecksFailed) => ExitCode::from(1),
        Ok(Outcome::Interrupted) => ExitCode::from(EXIT_INTERRUPTED),
        Err(f) => {
            let (e, code) = match f {
                Failure::Input(e) => (e, 2),
                Failure::Internal(e) => (e, 1),
            };
            // Each cause once: one whose text the message already holds
            // (an OS error embedded in it) is not repeated.
            let mut shown = e.to_string();
            eprintln!("error: {}", printable(&shown));
            for cause in e.chain().skip(1) {
                let text = cause.to_string();
                if !shown.contains(&text) {
                    eprintln!("  caused by: {}", printable(&text));
                    shown.push_str(&text);
                }
            }
            ExitCode::from(code)
        }
    }
}

/// A reader that closes the pipe early (`sharesim catalog devices | head`)
/// ends the process by SIGPIPE, as it ends `cat` or `ls`: Rust ignores the
/// signal by default, and every print would then panic on the closed pipe.
fn quiet_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition at the start of
    // `main`, before any thread exists, races with nothing.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Ctrl-C during a sweep: the first raises `stop`, so the sweep abandons the
/// points in progress, combines the finished ones into a sweep.parquet
/// marked partial and ends (with [`Outcome::Interrupted`]); a second exits
/// at once.
fn stop_on_ctrl_c(stop: Arc<AtomicBool>) {
    let _ = ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            std::process::exit(EXIT_INTERRUPTED.into());
        }
        eprintln!("\nstopping: abandoning the points in progress, saving the finished ones (Ctrl-C again to quit at once)");
    });
}
