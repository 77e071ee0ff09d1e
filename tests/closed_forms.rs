//! The engine against closed forms (docs/model.md section 11), through the same
//! code path as `sharesim validate`: M/M/c at (c, rho) = (1, 0.5), (4, 0.75),
//! (10, 0.8), (100, 0.9), (100, 0.95) against Erlang-C (P(wait > 0), E[Wq],
//! P(Wq > t)), dedicated devices against M/M/1, M/D/1 and lognormal M/G/1
//! (scv = 4) against Pollaczek-Khinchine, Little's law and conservation.
//! Tolerances come from the replications' own standard errors (see
//! sim/validate.rs), not from hand-picked bounds.

use sharesim::selfcheck::{run_checks, ValidateOptions};

#[test]
fn engine_reproduces_closed_forms() {
    let opts = ValidateOptions::default();
    let results = run_checks(&opts);
    assert!(results.len() >= 21, "all checks ran");
    let mut failed = Vec::new();
    for r in &results {
        assert!(r.z.is_finite(), "{}: z not finite", r.name);
        assert!(
            r.customers >= (opts.customers_per_replication * opts.replications as f64 * 0.9) as u64
        );
        if !r.pass {
            failed.push(format!(
                "{}: simulated {} vs exact {} (z = {:.2}, limit {:.2})",
                r.name, r.simulated, r.exact, r.z, r.z_limit
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "closed-form checks failed:\n{}",
        failed.join("\n")
    );
}

#[test]
fn a_biased_engine_would_fail() {
    // The same statistics, fed a 2 % error in the exact value, must reject it:
    // proof that the tolerance is tight enough to catch a real bias.
    let opts = ValidateOptions {
        replications: 20,
        customers_per_replication: 400_000.0,
        seed: 99,
    };
    let results = run_checks(&opts);
    let r = results
        .iter()
        .find(|r| r.name.starts_with("M/M/10 rho=0.8 P(wait>0)"))
        .unwrap();
    let biased_z = (r.simulated - r.exact * 1.02) / r.std_err;
    assert!(
        biased_z.abs() > r.z_limit,
        "a 2 % bias would go unnoticed (z = {biased_z:.2}, limit {:.2})",
        r.z_limit
    );
}
