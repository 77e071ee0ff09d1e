//! The commands users expect besides the simulation itself: `catalog`
//! (the catalogue with its sources, fitted to the terminal), `explain`
//! (what would run, without simulating; its first guess is the sizing
//! search's own), `--version` (names the commit), `completions` (scripts
//! each shell accepts), and binary files refused without being echoed
//! (`fit-trace`, scenario files).

use std::process::Output;
use std::time::{Duration, Instant};

use sharesim::scenario::Scenario;
use sharesim::sizing::{search_start, search_starts, size_pool};

use crate::support::{assert_success, repo_file, scenario, sharesim, write};

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every line of `text` at most `width` characters.
#[track_caller]
fn assert_fits(text: &str, width: usize) {
    for line in text.lines() {
        assert!(
            line.chars().count() <= width,
            "line wider than {width}: {line:?}\n{text}"
        );
    }
}

/// No control byte but the line break (and no invalid UTF-8): nothing a
/// file held reaches the terminal raw.
#[track_caller]
fn assert_printable(bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).expect("stderr is UTF-8");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "control characters in: {text:?}"
    );
}

// ------------------------------------------------------------------ catalog

#[test]
fn catalog_lists_devices_models_and_engines_with_sources_in_80_columns() {
    let o = sharesim()
        .args(["catalog", "--quiet"])
        .env("COLUMNS", "80")
        .output()
        .unwrap();
    assert_success(&o);
    let text = stdout(&o);
    assert_fits(&text, 80);
    let catalog = sharesim::llm::Catalog::builtin().unwrap();
    for d in catalog.devices() {
        assert!(
            text.contains(&format!("\n {}", &d.name[..d.name.len().min(20)])),
            "{}",
            d.name
        );
    }
    for m in catalog.models() {
        assert!(text.contains(&m.name[..m.name.len().min(20)]), "{}", m.name);
    }
    for needle in [
        // Sources, from the comments of the catalogue files.
        "NVIDIA H100 datasheet",
        "Framework Desktop store page",
        "OpenAI gpt-oss model card",
        "Meta Llama 3.1 model card",
        // Engines and their fitted profiles.
        "llama.cpp",
        "vllm",
        "h100_sxm.vllm: ",
        "fitted by calibration (scenarios/catalog/calibrated.toml)",
    ] {
        assert!(text.contains(needle), "{needle}:\n{text}");
    }
    assert!(stderr(&o).is_empty(), "--quiet: {}", stderr(&o));
    // Without --quiet, the note says where the catalogue comes from.
    let o = sharesim().args(["catalog", "engines"]).output().unwrap();
    assert_success(&o);
    assert!(stderr(&o).contains("scenarios/catalog/"), "{}", stderr(&o));
}

#[test]
fn catalog_json_and_csv_carry_fitted_values_and_sources() {
    let o = sharesim()
        .args(["catalog", "--format", "json"])
        .output()
        .unwrap();
    assert_success(&o);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let catalog = sharesim::llm::Catalog::builtin().unwrap();
    let devices = v["devices"].as_array().unwrap();
    assert_eq!(devices.len(), catalog.devices().count());
    let h100 = devices.iter().find(|d| d["device"] == "h100_sxm").unwrap();
    let fitted = catalog.engines().fitted_power("h100_sxm").unwrap();
    // calibrated.toml's power values replace devices.toml's priors.
    assert_eq!(h100["idle_w"].as_f64(), fitted.idle_w);
    assert_eq!(
        h100["idle_w"].as_f64(),
        Some(catalog.device("h100_sxm").unwrap().idle_w)
    );
    assert!(h100["fitted"].as_str().unwrap().contains("idle_w"));
    for d in devices {
        assert!(!d["source"].as_str().unwrap().is_empty(), "{d}");
    }
    let models = v["models"].as_array().unwrap();
    let m = models
        .iter()
        .find(|m| m["model"] == "llama_3_1_8b")
        .unwrap();
    let want = catalog.model("llama_3_1_8b").unwrap();
    assert_eq!(
        m["weights_gb_q4"].as_f64(),
        want.weights_gb.get("q4").copied()
    );
    assert_eq!(
        m["kv_bytes_per_token"].as_f64(),
        Some(want.kv_bytes_per_token)
    );
    let engines = v["engines"].as_array().unwrap();
    let vllm = engines.iter().find(|e| e["engine"] == "vllm").unwrap();
    assert_eq!(vllm["kv_allocation"], "paged");
    assert!(vllm["profiled_devices"]
        .as_str()
        .unwrap()
        .contains("h100_sxm"));

    let o = sharesim()
        .args(["catalog", "devices", "--format", "csv"])
        .output()
        .unwrap();
    assert_success(&o);
    let text = stdout(&o);
    assert!(text.starts_with("device,mem_gb,bandwidth_gb_s,"), "{text}");
    assert_eq!(text.lines().count(), catalog.devices().count() + 1);
    // CSV of every part at once has no single header: exit 2, saying why.
    let o = sharesim()
        .args(["catalog", "--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("catalog devices --format csv"));
}

#[test]
fn catalog_fits_a_wide_terminal_too() {
    let o = sharesim()
        .args(["catalog", "--quiet"])
        .env("COLUMNS", "200")
        .output()
        .unwrap();
    assert_success(&o);
    let text = stdout(&o);
    assert_fits(&text, 200);
    // Wide enough for every column: none is left out.
    assert!(!text.contains("not shown"), "{text}");
}

// ------------------------------------------------------------------ explain

/// `explain` on a shipped scenario: exit 0, without simulating (quickly).
fn explain(file: &str, extra: &[&str]) -> Output {
    let started = Instant::now();
    let o = sharesim()
        .arg("explain")
        .arg(repo_file(file))
        .args(extra)
        .env("COLUMNS", "80")
        .output()
        .unwrap();
    assert_success(&o);
    // A run of these takes seconds to minutes; explaining them runs nothing
    // (generous: the test machine is shared).
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{file}: {:?}",
        started.elapsed()
    );
    o
}

#[test]
fn explain_prints_the_first_guess_sizing_starts_from() {
    let file = "scenarios/llm-chat.toml";
    let o = explain(file, &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let s = Scenario::load(&repo_file(file)).unwrap();
    let starts = search_starts(&s);
    assert!(!starts.is_empty());
    let printed = v["first_guess"].as_array().unwrap();
    assert_eq!(printed.len(), starts.len());
    for (p, st) in printed.iter().zip(&starts) {
        let (guess, max) = st.start.clone().unwrap();
        assert_eq!(p["pool_size"].as_u64(), Some(st.pool_size as u64));
        assert_eq!(p["first_guess_servers"].as_f64(), Some(guess as f64));
        assert_eq!(p["max_servers"].as_f64(), Some(max as f64));
        assert_eq!(p["method"], st.method);
    }
    assert_eq!(v["users"].as_u64(), Some(s.users as u64));
    assert!(v["run"]["simulated_requests"].as_f64().unwrap() > 0.0);
    assert!(v["memory_run_bytes"].as_u64().unwrap() > 0);
    let classes = v["classes"].as_array().unwrap();
    let mean = classes[0]["requests_per_s_mean"].as_f64().unwrap();
    assert!((mean - s.class_request_rate_per_s(0)).abs() < 1e-9);
    assert!(classes[0]["tokens_per_s_peak"].as_f64().unwrap() >= mean);

    // The table says the same, in 80 columns, with how the time was formed.
    let o = explain(file, &[]);
    let text = stdout(&o);
    assert_fits(&text, 80);
    for needle in [
        "h100-pool",
        "framework_desktop",
        "first guess",
        "peak memory of run",
        "expected time of run",
        "simulated requests",
        "measured",
    ] {
        assert!(text.contains(needle), "{needle}:\n{text}");
    }
}

#[test]
fn sizing_starts_where_explain_says() {
    // A small generic pool: the first probe the search runs is the start
    // `search_start` gives (what `explain` prints).
    let s = scenario(crate::support::scenarios::generic!(
        "horizon_s = 20000\nwarmup_s = 1000\nreplications = 2"
    ));
    let view = s.view(1);
    let (first, _) = search_start(&view, 0, view.users).unwrap();
    let sized = size_pool(&view, 0, view.users);
    assert_eq!(sized.probes[0].servers, first);
    let starts = search_starts(&s);
    let whole = starts
        .iter()
        .find(|st| st.placement == 1 && st.pool_size == s.users)
        .unwrap();
    assert_eq!(whole.start.as_ref().unwrap().0, first);
}

#[test]
fn explain_covers_sweeps_generic_and_trace_scenarios() {
    let o = explain("scenarios/default.toml", &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let sweep = sharesim::sweep::Sweep::load(&repo_file("scenarios/default.toml")).unwrap();
    assert_eq!(v["points"].as_array().unwrap().len(), sweep.points.len());
    assert_eq!(v["mode"], "size");
    let o = explain("scenarios/default.toml", &[]);
    let text = stdout(&o);
    assert_fits(&text, 80);
    assert!(
        text.contains(&format!("{} points", sweep.points.len())),
        "{text}"
    );
    for file in [
        "scenarios/generic-queue.toml",
        "scenarios/azure-trace.toml",
        "scenarios/small-models.toml",
        "scenarios/benchmark-burst.toml",
    ] {
        let text = stdout(&explain(file, &["--quiet"]));
        assert_fits(&text, 80);
        assert!(text.contains("expected time of run"), "{file}:\n{text}");
    }
}

#[test]
fn explain_of_a_bad_scenario_exits_2_as_run_does() {
    let dir = tempfile::tempdir().unwrap();
    let text = crate::support::scenarios::generic!("horizon_s = 2000")
        .replace("servers = 4", "servers = 0");
    let bad = write(dir.path(), "bad.toml", text);
    let explained = sharesim().arg("explain").arg(&bad).output().unwrap();
    let ran = sharesim()
        .arg("run")
        .arg(&bad)
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(explained.status.code(), Some(2));
    assert_eq!(ran.status.code(), Some(2));
    assert_eq!(stderr(&explained), stderr(&ran));
    assert!(stderr(&explained).contains("placements[1].servers"));
    let missing = sharesim()
        .arg("explain")
        .arg(dir.path().join("none.toml"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

// ------------------------------------------------------------------ version, completions

#[test]
fn version_names_the_commit() {
    let o = sharesim().arg("--version").output().unwrap();
    assert_success(&o);
    let text = stdout(&o);
    assert!(
        text.starts_with(&format!("sharesim {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let commit = text
        .trim()
        .rsplit("(commit ")
        .next()
        .unwrap()
        .trim_end_matches(')');
    assert!(!commit.is_empty() && !commit.contains(' '), "{text}");
}

#[test]
fn completions_for_each_shell_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let o = sharesim().args(["completions", shell]).output().unwrap();
        assert_success(&o);
        let script = stdout(&o);
        for sub in [
            "run",
            "size",
            "sweep",
            "explain",
            "catalog",
            "fit-trace",
            "completions",
        ] {
            assert!(script.contains(sub), "{shell}: {sub}");
        }
        assert!(script.contains("format"), "{shell}");
        if shell == "bash" {
            let dir = tempfile::tempdir().unwrap();
            let path = write(dir.path(), "sharesim.bash", &script);
            let checked = std::process::Command::new("bash")
                .arg("-n")
                .arg(&path)
                .output();
            match checked {
                Ok(c) => assert!(
                    c.status.success(),
                    "bash -n: {}",
                    String::from_utf8_lossy(&c.stderr)
                ),
                Err(e) => panic!("bash is needed to check the bash script: {e}"),
            }
        }
    }
    let o = sharesim().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

// ------------------------------------------------------------------ binary input

/// Files that are not CSV text, each with the word its message must say.
fn binary_files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0u8..=255).cycle().take(2000));
    let mut parquet = b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00".to_vec();
    parquet.extend((0u8..=255).rev().cycle().take(2000));
    parquet.extend(b"PAR1");
    vec![
        ("image.csv", png, "PNG"),
        ("table.csv", parquet, "Parquet"),
        (
            "nul.csv",
            b"timestamp_s,input_length\x00\x1b[31m,x\n1,2\n".to_vec(),
            "NUL",
        ),
        ("latin.csv", b"t\xe9\x1b[2J,input\n1,2\n".to_vec(), "UTF-8"),
        (
            "utf16.csv",
            "timestamp_s,a\n"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes())
                .collect(),
            "NUL",
        ),
    ]
}

#[test]
fn fit_trace_refuses_binary_files_without_echoing_them() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, says) in binary_files() {
        let path = write(dir.path(), name, &bytes);
        for format in ["auto", "ragpulse"] {
            let o = sharesim()
                .arg("fit-trace")
                .arg(&path)
                .args(["--format", format])
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(2), "{name} {format}: {}", stderr(&o));
            assert_printable(&o.stderr);
            assert!(o.stdout.is_empty(), "{name}");
            let e = stderr(&o);
            assert!(e.contains(&path.display().to_string()), "{name}: {e}");
            assert!(e.contains(says), "{name}: {e}");
            assert!(e.contains("CSV") && e.contains("Parquet"), "{name}: {e}");
        }
        // The same file named by a scenario's [trace] is refused the same way.
        let text = std::fs::read_to_string(repo_file("scenarios/azure-trace.toml")).unwrap();
        let start = text.find("file = ").unwrap();
        let end = start + text[start..].find('\n').unwrap();
        let edited = format!(
            "{}file = {:?}{}",
            &text[..start],
            path.display().to_string(),
            &text[end..]
        );
        let scenario_path = write(dir.path(), "trace.toml", edited);
        let o = sharesim()
            .arg("explain")
            .arg(&scenario_path)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert_printable(&o.stderr);
        assert!(stderr(&o).contains("trace.file"), "{}", stderr(&o));
    }
}

#[test]
fn binary_or_garbled_scenario_files_are_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend((0u8..=255).cycle().take(5000));
    let utf16: Vec<u8> = "seed = 1\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let escapes = format!("seed = \x1b[2J\x07{}\n", "x".repeat(5000)).into_bytes();
    for (name, bytes) in [
        ("image.toml", png),
        ("utf16.toml", utf16),
        ("escapes.toml", escapes),
    ] {
        let path = write(dir.path(), name, &bytes);
        for command in ["run", "explain", "sweep"] {
            let mut c = sharesim();
            c.arg(command).arg(&path);
            if command != "explain" {
                c.arg("--out").arg(dir.path().join("out"));
            }
            let o = c.output().unwrap();
            assert_eq!(o.status.code(), Some(2), "{name} {command}: {}", stderr(&o));
            assert_printable(&o.stderr);
            let e = stderr(&o);
            assert!(e.contains(name), "{e}");
            assert!(e.len() < 2000, "a long line is shortened: {e}");
        }
    }
}

#[test]
fn fit_trace_messages_offer_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "odd.csv", "a,b\n1,2\n");
    let o = sharesim().arg("fit-trace").arg(&path).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(!e.contains("column mapping"), "{e}");
    assert!(e.contains("rename the columns"), "{e}");
    // Sessions are a scenario key: the snippet sets them.
    let trace = repo_file("data/traces/ragpulse_sessions.csv");
    let o = sharesim().arg("fit-trace").arg(&trace).output().unwrap();
    assert_success(&o);
    let text = stdout(&o);
    assert!(!text.contains("not a scenario key"), "{text}");
    assert!(text.contains("arrivals = \"sessions\""), "{text}");
    assert!(text.contains("session_requests_mean = "), "{text}");
    assert!(
        text.contains("think_time = { distribution = \"lognormal\""),
        "{text}"
    );
}

#[test]
fn other_files_a_command_reads_are_not_echoed_either() {
    let dir = tempfile::tempdir().unwrap();
    let utf16: Vec<u8> = "1.5\n2\nabc\x1b[2J\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    write(dir.path(), "values.txt", &utf16);
    // An empirical service-time file (named by the scenario).
    let text = crate::support::scenarios::generic!("horizon_s = 2000").replace(
        "distribution = \"exponential\"\nmean_s = 20.0",
        "distribution = \"empirical\"\nfile = \"values.txt\"",
    );
    let path = write(dir.path(), "x.toml", text);
    let o = sharesim().arg("explain").arg(&path).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_printable(&o.stderr);
    assert!(stderr(&o).contains("service.file"), "{}", stderr(&o));
    assert!(stderr(&o).contains("NUL"), "{}", stderr(&o));
    // A measurement table for `calibrate --predict`.
    let table = write(dir.path(), "m.csv", &utf16);
    let o = sharesim()
        .args(["calibrate", "--predict"])
        .arg(&table)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_printable(&o.stderr);
    assert!(stderr(&o).contains("m.csv"), "{}", stderr(&o));
}

/// A reader that closes the pipe at once (`sharesim catalog devices | head
/// -0`) ends the command quietly, as it ends `cat`: no panic on the closed
/// pipe (Rust ignores SIGPIPE unless the binary restores it).
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    // The models listing is long enough to fill a pipe nobody reads.
    for _ in 0..3 {
        let mut child = Command::new(crate::support::BIN)
            .args(["catalog", "models", "--format", "csv"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts sharesim");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("sharesim ends");
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "a closed pipe panicked:\n{err}");
        assert!(
            out.status.success() || out.status.signal() == Some(libc::SIGPIPE),
            "ended with {:?}:\n{err}",
            out.status
        );
    }
}
