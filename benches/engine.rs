//! Engine speed on one thread.
//!
//! Customers per second of the FCFS engine:
//! - M/M/10 at rho = 0.8 with one arrival stream (target >= 10 M/s),
//! - the same load split into 100,000 per-user Poisson streams (>= 7 M/s).
//!
//! Requests per second of the continuous-batching engine (`sharesim::engine::BatchingFleet`):
//! - the chat population of scenarios/llm-chat.toml (20,000 users, 20
//!   requests a day each, gpt-oss-120b, request sizes of the Azure
//!   conversation trace) on its pool of 2 H100s, for 100,000 requests.
//!
//! Run: `cargo bench --bench engine` (one group: `cargo bench --bench engine
//! -- llm_chat`). Compare the FCFS figures with a plain Rust M/M/c loop
//! (the developers' workbench peer `rust_mmc 10 8 1 10000000`) run in the same session.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sharesim::run::{run_replication, Measured};
use sharesim::scenario::Scenario;

const CUSTOMERS: f64 = 2_000_000.0;

/// Requests of one measured run of the batching engine.
const LLM_REQUESTS: f64 = 100_000.0;

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

/// llm-chat.toml's users and pool, with the horizon that brings
/// `LLM_REQUESTS` requests (4.6 a second).
fn llm_chat_scenario() -> Scenario {
    let (users, per_day) = (20_000.0, 20.0);
    let text = format!(
        "seed = 1\nhorizon_s = {h}\nwarmup_s = 0\nreplications = 1\n\
         [users]\ncount = {users}\nrequests_per_day = {per_day}\n\
         [model]\nname = \"gpt_oss_120b\"\nquantisation = \"mxfp4\"\n\
         [requests]\n\
         input_tokens = {{ distribution = \"lognormal\", median = 1020, p99 = 4142 }}\n\
         output_tokens = {{ distribution = \"lognormal\", median = 129, p99 = 601 }}\n\
         [[placements]]\nname = \"h100-pool\"\nkind = \"pooled\"\ndevice = \"h100_sxm\"\n\
         servers = 2\nmax_batch = 256\nnetwork_rtt_s = 0.05\n",
        h = LLM_REQUESTS / (users * per_day / 86_400.0),
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

fn batching(c: &mut Criterion) {
    let mut g = c.benchmark_group("llm_chat");
    g.sample_size(10);
    g.throughput(Throughput::Elements(LLM_REQUESTS as u64));
    let s = llm_chat_scenario();
    g.bench_function("h100_pool_100000_requests", |b| {
        b.iter(|| match run_replication(&s, 0, 0).measured {
            Measured::Llm(rec, _) => {
                assert!(rec.measured > (LLM_REQUESTS * 0.99) as u64);
                rec.measured
            }
            Measured::Fcfs(_) => panic!("an LLM scenario measured FCFS"),
        })
    });
    g.finish();
}

criterion_group!(benches, engine, batching);
criterion_main!(benches);
