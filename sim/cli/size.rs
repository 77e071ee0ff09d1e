//! `sharesim size`: find the least hardware that meets a scenario's service
//! level, write the sizing tables, print them and draw their chart.

use std::path::PathBuf;

use clap::Args;

use sharesim::output::write_parquet;
use sharesim::results::{Row, Value};
use sharesim::run::Work;
use sharesim::scenario::Scenario;

use super::answer::PrintArgs;
use super::shared::{
    counted, prepare, print_service_level, ChartArgs, MemoryArgs, OverrideArgs, ProfileArgs,
    ScenarioArgs, ThreadArgs,
};
use super::{Failure, Outcome};
use sharesim::results::columns;

/// Find the least hardware that meets the scenario's service level:
/// servers per pooled placement (at every pool size of [sizing]), and
/// whether one device per user meets it; writes sizing.parquet (one row
/// per placement and pool size) and probes.parquet (every fleet tried).
#[derive(Args)]
#[command(mut_arg("replications", |a| a.help("Override the number of replications per probe")))]
pub struct SizeArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    #[command(flatten)]
    pub threads: ThreadArgs,
    #[command(flatten)]
    pub memory: MemoryArgs,
    #[command(flatten)]
    pub charts: ChartArgs,
    #[command(flatten)]
    pub print: PrintArgs,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

pub fn run(args: &SizeArgs) -> Result<Outcome, Failure> {
    let dir = size(args)?;
    let mut files = vec![dir.join("sizing.parquet")];
    let elastic = dir.join("elastic.parquet");
    if elastic.exists() {
        files.push(elastic);
    }
    args.charts.draw(&files)?;
    Ok(Outcome::Done)
}

/// Size, write the tables and print them; returns the folder written.
fn size(args: &SizeArgs) -> Result<PathBuf, Failure> {
    let path = &args.input.scenario;
    let scenario = args.overrides.load(path)?;
    if scenario.benchmark.is_some() {
        return Err(Failure::Input(anyhow::anyhow!(
            "{}: benchmark: a benchmark scenario is run, not sized: use `sharesim run` (or `sweep` without `mode = \"size\"`)",
            path.display()
        )));
    }
    if let Some(class) = scenario.classes.iter().find(|c| c.service_level.is_empty()) {
        let whose = if scenario.classes.len() > 1 {
            format!(" (class {:?} has none)", class.name)
        } else {
            String::new()
        };
        return Err(Failure::Input(anyhow::anyhow!(
            "{}: service_level: sizing needs a service level{whose}: add a [service_level] table, e.g. `ttft_p99_s = 2.0`",
            path.display()
        )));
    }
    let (pool, dir, _guard) = prepare(
        &args.input,
        &args.overrides,
        &args.threads,
        &args.memory,
        &scenario,
        Work::Size,
        "size",
    )?;
    eprintln!(
        "sizing {} ({} users, {}, pool sizes {:?}, {} per probe)",
        scenario.name,
        scenario.users,
        counted(scenario.placements.len(), "placement"),
        scenario.sizing.pool_sizes,
        counted(scenario.replications, "replication")
    );
    let started = std::time::Instant::now();
    let results = pool.install(|| sharesim::sizing::size_scenario(&scenario));
    let sizing_path = dir.join("sizing.parquet");
    let probes_path = dir.join("probes.parquet");
    write_parquet(&sizing_path, &results.rows).map_err(anyhow::Error::from)?;
    write_parquet(&probes_path, &results.probes).map_err(anyhow::Error::from)?;
    let devices_path = dir.join("dedicated_devices.parquet");
    if results.device_choices.is_empty() {
        let _ = std::fs::remove_file(&devices_path);
    } else {
        write_parquet(&devices_path, &results.device_choices).map_err(anyhow::Error::from)?;
    }
    let elastic_path = dir.join("elastic.parquet");
    if results.elastic.is_empty() {
        let _ = std::fs::remove_file(&elastic_path);
    } else {
        write_parquet(&elastic_path, &results.elastic).map_err(anyhow::Error::from)?;
    }
    let users_path = dir.join("dedicated_users.parquet");
    if results.user_groups.is_empty() {
        // No dedicated placement: a file left by an earlier run would lie.
        let _ = std::fs::remove_file(&users_path);
    } else {
        write_parquet(&users_path, &results.user_groups).map_err(anyhow::Error::from)?;
    }
    let world_path = dir.join("world.parquet");
    if results.world.is_empty() {
        let _ = std::fs::remove_file(&world_path);
    } else {
        write_parquet(&world_path, &results.world).map_err(anyhow::Error::from)?;
    }
    if args.print.all_columns && !args.print.is_table() {
        let joined = for_scripts(&results.rows, &results.world, &results.elastic);
        print_sizing(&scenario, &joined, &args.print);
    } else {
        print_sizing(&scenario, &results.rows, &args.print);
    }
    if args.print.is_table() {
        print_world(&results.world);
    }
    eprintln!(
        "sized in {:.1} s ({} in probes.parquet); wrote {} and {}",
        started.elapsed().as_secs_f64(),
        super::shared::counted(results.probes.len(), "probe"),
        sizing_path.display(),
        probes_path.display()
    );
    args.profile.report();
    Ok(dir)
}

/// The sizing table, the service level, and per placement why it is
/// infeasible and which users miss the service level, where it says.
fn print_sizing(scenario: &Scenario, rows: &[Row], print: &PrintArgs) {
    // Most telling first: a narrow terminal drops columns from the right.
    let cols = [
        columns::PLACEMENT,
        columns::POOL_SIZE,
        "feasible",
        columns::MEM_GB_PER_USER,
        columns::CAPEX_USD_PER_USER,
        columns::SHARING_FACTOR_MEMORY,
        columns::SHARING_FACTOR_CAPEX,
        columns::SERVERS_PER_POOL,
        columns::DEVICES_PER_USER,
        columns::UTILIZATION_SHARE,
        "batch_fill_share",
        "kv_occupancy_share",
        "saturation_share",
        "energy_kwh_per_user_per_day",
        "users_meeting_slo_share",
        "probes",
    ];
    print.print(rows, &cols);
    if !print.is_table() {
        return;
    }
    print_service_level(scenario);
    for r in rows {
        let name = || {
            sharesim::results::get(r, columns::PLACEMENT)
                .map(|v| v.display())
                .unwrap_or_default()
        };
        let width = super::answer::terminal_width();
        let say = |text: String| {
            for line in sharesim::output::terminal::wrap_words(&text, width.max(20)) {
                println!("{line}");
            }
        };
        if let Some(reason) = text_of(r, "reason") {
            say(format!("{}: {reason}", name()));
        }
        if let Some(d) = text_of(r, "users_missing_slo_detail") {
            say(format!("{}: users missing the service level: {d}", name()));
        }
        if let Some(policy) = text_of(r, "elastic_policy") {
            say(elastic_line(&name(), policy, r));
        }
        if let Some(line) = disaggregated_line(&name(), r) {
            say(line);
        }
    }
    print_availability(scenario, rows);
}

/// A disaggregated placement's answer: both pools and the total.
fn disaggregated_line(name: &str, r: &Row) -> Option<String> {
    let number = |c: &str| sharesim::results::get(r, c).and_then(Value::as_f64);
    let prefill = number("prefill_servers").filter(|n| *n > 0.0)?;
    let decode = number("decode_servers")?;
    let transfer = number("kv_transfer_mean_s")
        .map(|t| format!("; a KV transfer takes {:.2} ms on average", t * 1e3))
        .unwrap_or_default();
    Some(format!(
        "{name}: {prefill} prefill + {decode} decode servers per pool ({} in all){transfer}",
        prefill + decode
    ))
}

/// With `[outages]`: each option's share of a year's requests within the
/// service level, and the cheapest meeting the availability target.
fn print_availability(scenario: &Scenario, rows: &[Row]) {
    let number = |r: &Row, c: &str| sharesim::results::get(r, c).and_then(Value::as_f64);
    let mut parts = Vec::new();
    let mut chosen = None;
    for r in rows {
        let (Some(a), Some(down)) = (
            number(r, columns::AVAILABILITY_SHARE),
            number(r, "unavailable_share_year"),
        ) else {
            continue;
        };
        let name = text_of(r, columns::PLACEMENT).unwrap_or_default();
        let via = text_of(r, columns::FALLBACK)
            .map(|f| format!(", falling back to {f}"))
            .unwrap_or_default();
        parts.push(format!(
            "{name} {:.3} % (down {:.3} % of the year{via})",
            100.0 * a,
            100.0 * down
        ));
        if matches!(
            sharesim::results::get(r, columns::AVAILABILITY_CHOICE),
            Some(Value::Bool(Some(true)))
        ) {
            chosen = Some((name.to_string(), number(r, columns::CAPEX_WITH_FALLBACK)));
        }
    }
    if parts.is_empty() {
        return;
    }
    let width = super::answer::terminal_width().max(20);
    let mut text = format!(
        "availability (share of a year's requests within the service level, outages counted; more servers in one place do not change it): {}",
        parts.join("; ")
    );
    if let Some(t) = scenario.sizing.availability_target {
        match chosen {
            Some((name, capex)) => text.push_str(&format!(
                ". Target {:.3} %: cheapest option meeting it: {name} ({} per user with its fallback)",
                100.0 * t,
                capex.map_or("-".into(), |c| format!("${c:.0}"))
            )),
            None => text.push_str(&format!(
                ". Target {:.3} %: no option meets it",
                100.0 * t
            )),
        }
    }
    for line in sharesim::output::terminal::wrap_words(&text, width) {
        println!("{line}");
    }
}

/// `--all-columns` for scripts: each sizing row with its world answer's
/// columns (world.parquet's, matched by placement and pool size) appended,
/// and on a row with an hourly schedule each hour's `request_rate_per_s` and
/// `devices_held` of elastic.parquet as `elastic_h{HH}_request_rate_per_s`
/// and `elastic_h{HH}_devices_held`, so those figures are printed too
/// (scripts/readme-results.pl).
fn for_scripts(rows: &[Row], world: &[Row], elastic: &[Row]) -> Vec<Row> {
    let key = |r: &Row| {
        (
            text_of(r, columns::PLACEMENT).map(str::to_string),
            sharesim::results::get(r, columns::POOL_SIZE).map(|v| v.display()),
        )
    };
    let number = |r: &Row, c: &str| sharesim::results::get(r, c).and_then(Value::as_f64);
    rows.iter()
        .map(|r| {
            let mut joined = r.clone();
            if let Some(w) = world.iter().find(|w| key(w) == key(r)) {
                for (name, value) in w {
                    if sharesim::results::get(r, name).is_none() {
                        joined.push((name.clone(), value.clone()));
                    }
                }
            }
            if text_of(r, "elastic_policy").is_some() {
                let placement = text_of(r, columns::PLACEMENT);
                for h in elastic
                    .iter()
                    .filter(|h| text_of(h, columns::PLACEMENT) == placement)
                {
                    let Some(hour) = number(h, "hour_of_day") else {
                        continue;
                    };
                    for c in ["request_rate_per_s", "devices_held"] {
                        joined.push((
                            format!("elastic_h{hour:02.0}_{c}"),
                            Value::F64(number(h, c)),
                        ));
                    }
                }
            }
            joined
        })
        .collect()
}

/// One line per world answer: devices, memory and its share of the world's
/// yearly DRAM output, TCO and carbon, at the `[world]` user base.
fn print_world(world: &[Row]) {
    let Some(first) = world.first() else {
        return;
    };
    let num = |r: &Row, c: &str| sharesim::results::get(r, c).and_then(Value::as_f64);
    let f = |x: Option<f64>| x.map_or_else(|| "-".to_string(), sharesim::results::format_number);
    println!(
        "world: {} users: each answer's per-user figures x {} (linear in users: the world is many regions like the simulated one; world.parquet, `extrapolation`)",
        f(num(first, "world_users")),
        f(num(first, "world_users"))
    );
    for r in world {
        println!(
            "  {} (pools of {}): {} devices, {} GB of memory ({} GB HBM), {} GB replaced a year = {} of the world's DRAM output ({} GB/year); TCO {} USD/year; {} t CO2e/year",
            text_of(r, columns::PLACEMENT).unwrap_or_default(),
            sharesim::results::get(r, columns::POOL_SIZE).map(|v| v.display()).unwrap_or_default(),
            f(num(r, "devices_world")),
            f(num(r, "mem_gb_world")),
            f(num(r, "hbm_gb_world")),
            f(num(r, "mem_gb_replaced_per_year_world")),
            num(r, "share_of_world_dram_output").map_or("-".into(), |x| format!("{:.3} %", 100.0 * x)),
            f(num(r, "world_dram_output_gb_per_year")),
            f(num(r, "tco_usd_per_year_world")),
            f(num(r, "carbon_t_per_year_world")),
        );
    }
}

/// A row's text in column `col`, unless empty or missing.
fn text_of<'a>(row: &'a Row, col: &str) -> Option<&'a str> {
    match sharesim::results::get(row, col) {
        Some(Value::Str(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

/// One line on a placement's elastic schedule against its static fleet.
fn elastic_line(name: &str, policy: &str, r: &Row) -> String {
    let n = |c: &str| sharesim::results::get(r, c).and_then(Value::as_f64);
    let f =
        |x: Option<f64>, digits: usize| x.map_or("n/a".to_string(), |v| format!("{v:.digits$}"));
    let rental = text_of(r, "billing").unwrap_or("owned") == "rental";
    let hourly = n("servers_peak").is_some();
    let reactive = sharesim::results::get(r, "reactive_runs").is_some();
    let mut parts = Vec::new();
    if hourly {
        let cost = if rental {
            format!("rental ${} per day", f(n("rental_usd_per_day_hourly"), 0))
        } else {
            format!(
                "owned: capex ${}, energy {} kWh per day",
                f(n("capex_usd_total_hourly"), 0),
                f(n("energy_kwh_per_day_hourly"), 1)
            )
        };
        parts.push(format!(
            "hourly schedule peak {} / mean {} servers, {} GPU-hours per day, {cost}",
            f(n("servers_peak"), 0),
            f(n("servers_mean"), 2),
            f(n("gpu_hours_per_day_hourly"), 0),
        ));
    }
    if reactive {
        let runs = text_of(r, "reactive_runs").unwrap_or("none");
        let target = n("reactive_target_in_flight")
            .map(|t| (t, "in flight"))
            .or(n("reactive_target_requests_per_s").map(|t| (t, "requests/s")));
        let chosen = match target {
            Some((t, unit)) => {
                let cost = if rental {
                    format!("rental ${} per day", f(n("rental_usd_per_day_reactive"), 0))
                } else {
                    format!("owned: capex ${}", f(n("capex_usd_total_reactive"), 0))
                };
                format!(
                    "target {} {unit} per server: peak {} / mean {} servers, {} GPU-hours per day, {cost}; {} requests per run arrived during scale-ups, {} within the service level",
                    sharesim::results::format_number(t),
                    f(n("servers_peak_reactive"), 0),
                    f(n("servers_mean_reactive"), 2),
                    f(n("gpu_hours_per_day_reactive"), 0),
                    f(n("scaleup_requests"), 0),
                    n("scaleup_attainment_share").map_or("n/a".into(), |a| format!("{:.1} %", 100.0 * a)),
                )
            }
            None => "no target meets the service level".into(),
        };
        parts.push(format!(
            "reactive autoscaler (delay {} min, at least {} servers) {chosen} [targets tried: {runs}]",
            f(n("reactive_delay_min"), 1),
            f(n("reactive_min_servers"), 0),
        ));
    }
    let static_cost = if rental {
        format!("rental ${} per day", f(n("rental_usd_per_day_static"), 0))
    } else {
        format!(
            "owned: capex ${}, energy {} kWh per day",
            f(n(columns::CAPEX_USD_TOTAL), 0),
            f(n(columns::ENERGY_KWH_PER_DAY_TOTAL), 1)
        )
    };
    format!(
        "{name}: {}; static {} servers, {} GPU-hours per day, {static_cost}: {policy} is cheapest",
        parts.join("; "),
        f(n("servers_total"), 0),
        f(n("gpu_hours_per_day_static"), 0),
    )
}
