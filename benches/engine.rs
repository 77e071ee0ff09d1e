//! Engine speed: customers per second on one thread.
//!
//! - M/M/10 at rho = 0.8 with one arrival stream (target >= 10 M/s),
//! - the same load split into 100,000 per-user Poisson streams (>= 7 M/s).
//!
//! Run: `cargo bench --bench engine`. Compare with the plain Rust peer in
//! ../shared/peers/rust_mmc in the same session (`rust_mmc 10 8 1 10000000`).

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sharesim::run::run_replication;
use sharesim::scenario::Scenario;

const CUSTOMERS: f64 = 2_000_000.0;

fn mmc_scenario(users: u64) -> Scenario {
    let lambda = 8.0;
    let text = format!(
        "seed = 1\nhorizon_s = {h}\nwarmup_s = 0\nreplications = 1\n\
         [users]\ncount = {users}\nrequests_per_day = {rpd}\n\
         [service]\ndistribution = \"exponential\"\nmean_s = 1.0\n\
         [[placements]]\nname = \"pool\"\nkind = \"pooled\"\nservers = 10\n",
        h = CUSTOMERS / lambda,
        rpd = lambda * 86_400.0 / users as f64,
    );
    Scenario::from_toml_str(&text, Path::new("<bench>")).unwrap()
}

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("mm10_rho0.8");
    g.sample_size(20);
    g.throughput(Throughput::Elements(CUSTOMERS as u64));
    for users in [1u64, 100_000] {
        let s = mmc_scenario(users);
        g.bench_function(format!("{users}_users"), |b| {
            b.iter(|| {
                let o = run_replication(&s, 0, 0);
                assert!(o.fcfs().measured > (CUSTOMERS * 0.99) as u64);
                o.fcfs().measured
            })
        });
    }
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
