//! The README is true and the repository stands alone.
//!
//! Every `sharesim ...`, `target/release/sharesim ...` and `cargo run ...`
//! command of README.md and notebooks-output/README.md (in code blocks or
//! inline code) runs with the built binary, in README order, in a temporary
//! folder holding what the README assumes (a copy of `scenarios/` and
//! `data/`; output to the default `notebooks-output/` there), and exits 0.
//! Synopses (`sharesim run SCENARIO`: a placeholder in capitals, `[...]` or
//! `a|b`) are not commands; cluster examples (a block with `sbatch` or
//! `#SBATCH`, YAML) are scripts/slurm-check.sh's. The scenarios that take
//! minutes run with the `--set` overrides of [`QUICK`], as the README says.
//!
//! Standing alone: a `git clone` of this repository into an empty folder
//! runs the azure-trace scenario, and every file a shipped scenario names
//! is inside the repository.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::support::{assert_success, files_under, repo_file, write, BIN, SHARD_ENV};

/// Overrides that shorten the scenarios that take minutes, appended to a
/// `run`, `size`, `sweep`, `uncertainty` or `waterfall` of that file (shorter horizon, one replication,
/// fewer measured requests, fewer users where sizing dominates). Which
/// scenarios are slow: scripts/bench-readme.sh.
const QUICK: &[(&str, &[&str])] = &[
    (
        "scenarios/default-uncertainty.toml",
        &[
            "replications=1",
            "horizon_h=0.25",
            "warmup_h=0.05",
            "sizing.min_measured_requests=2000",
            "uncertainty.samples=3",
        ],
    ),
    (
        "scenarios/default.toml",
        &[
            "replications=1",
            "horizon_h=0.25",
            "warmup_h=0.05",
            "sizing.min_measured_requests=2000",
        ],
    ),
    (
        "scenarios/seed-one-percent.toml",
        &["replications=1", "horizon_h=0.25", "warmup_h=0.05"],
    ),
    (
        "scenarios/memory-price-shock.toml",
        &["replications=1", "horizon_h=0.25", "warmup_h=0.05"],
    ),
    (
        "scenarios/always-on-agent.toml",
        &[
            "replications=1",
            "horizon_h=0.25",
            "warmup_h=0.05",
            "users.count=200",
            "sizing.min_measured_requests=200",
        ],
    ),
    (
        "scenarios/elastic-region.toml",
        &[
            "replications=1",
            "horizon_h=1",
            "warmup_h=0.1",
            "users.count=2000",
        ],
    ),
    (
        "scenarios/household-office-region.toml",
        &[
            "replications=1",
            "horizon_h=1",
            "warmup_h=0.1",
            "users.count=10000",
            "sizing.min_measured_requests=2000",
        ],
    ),
];

/// The two READMEs whose commands run.
const READMES: [&str; 2] = ["README.md", "notebooks-output/README.md"];

/// The commands of a Markdown text, in order: code-block lines and inline
/// code spans that start with `sharesim `, `target/release/sharesim ` or
/// `cargo run `, their `# comments` removed, synopses and cluster blocks
/// left out.
fn commands(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut prose = String::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let Some(lang) = line.trim_start().strip_prefix("```") else {
            prose.push_str(line);
            prose.push('\n');
            continue;
        };
        let block: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.trim_start().starts_with("```"))
            .collect();
        spans(&prose, &mut found);
        prose.clear();
        let cluster = block
            .iter()
            .any(|l| l.contains("#SBATCH") || l.trim_start().starts_with("sbatch "));
        if cluster || ["yaml", "toml", "python"].contains(&lang.trim()) {
            continue;
        }
        for l in block {
            push_command(l.trim().trim_start_matches("$ "), &mut found);
        }
    }
    spans(&prose, &mut found);
    found
}

/// The inline code spans of `prose` (one or more backticks, possibly across
/// a line break) that are commands.
fn spans(prose: &str, found: &mut Vec<String>) {
    let b = prose.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'`' {
            i += 1;
            continue;
        }
        let ticks = b[i..].iter().take_while(|&&c| c == b'`').count();
        let fence = &prose[i..i + ticks];
        let start = i + ticks;
        let Some(len) = prose[start..].find(fence) else {
            return;
        };
        let span = prose[start..start + len].replace('\n', " ");
        push_command(span.trim(), found);
        i = start + len + ticks;
    }
}

/// Add `text` to `found` if it is a command (not a synopsis).
fn push_command(text: &str, found: &mut Vec<String>) {
    let text = match text.find(" #") {
        Some(c) => text[..c].trim(),
        None => text,
    };
    let is_command = ["sharesim ", "target/release/sharesim ", "cargo run "]
        .iter()
        .any(|p| text.starts_with(p));
    if !is_command || text.split_whitespace().any(is_placeholder) {
        return;
    }
    found.push(text.split_whitespace().collect::<Vec<_>>().join(" "));
}

/// A synopsis word: `SCENARIO`, `I/N`, `RESULTS.parquet`, `[--resume]`,
/// `table|csv|json`, `...`.
fn is_placeholder(word: &str) -> bool {
    let head = word.split('.').next().unwrap_or("");
    let capitals = head.chars().any(|c| c.is_ascii_uppercase())
        && head
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '/' || c == '_');
    capitals || word.contains('[') || word.contains('|') || word.contains("...")
}

/// The arguments of `sharesim` a command means: `cargo run --release -- X`
/// and `target/release/sharesim X` are `X`.
fn arguments(command: &str) -> Vec<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let rest = if words[0] == "cargo" {
        let dashes = words.iter().position(|w| *w == "--").unwrap_or_else(|| {
            panic!("{command}: `cargo run` without `--` before sharesim's arguments")
        });
        &words[dashes + 1..]
    } else {
        &words[1..]
    };
    for w in rest {
        assert!(
            !w.contains(['$', '>', '<', '&', ';', '\'', '"', '`']),
            "{command}: shell syntax ({w}) in a README command: write it as plain arguments"
        );
    }
    rest.iter().map(|w| w.to_string()).collect()
}

/// `args` with the [`QUICK`] overrides of its scenario appended.
fn quick(mut args: Vec<String>) -> Vec<String> {
    let simulates =
        ["run", "size", "sweep", "uncertainty", "waterfall"].contains(&args[0].as_str());
    let sets = QUICK
        .iter()
        .find(|(file, _)| args.iter().any(|a| a == file))
        .map(|(_, sets)| *sets);
    if let (true, Some(sets)) = (simulates, sets) {
        for s in sets {
            args.push("--set".into());
            args.push(s.to_string());
        }
    }
    args
}

/// Copy the folder `from` to `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    for f in files_under(from) {
        let dest = to.join(f.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}

/// A `sharesim` process in `dir` with no cluster variables of the machine
/// running the tests.
fn sharesim_in(dir: &Path, args: &[String]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).current_dir(dir);
    for k in SHARD_ENV {
        c.env_remove(k);
    }
    c
}

#[test]
fn every_readme_command_runs() {
    let mut all = Vec::new();
    for readme in READMES {
        let text = std::fs::read_to_string(repo_file(readme)).unwrap();
        for c in commands(&text) {
            if !all.contains(&c) {
                all.push(c);
            }
        }
    }
    for expected in [
        "cargo run --release -- sweep scenarios/default.toml",
        "sharesim size scenarios/azure-trace.toml",
    ] {
        assert!(
            all.iter().any(|c| c == expected),
            "{expected:?} not found in {all:#?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    for folder in ["scenarios", "data"] {
        copy_dir(&repo_file(folder), &dir.path().join(folder));
    }
    let mut failed = Vec::new();
    let mut report = Vec::new();
    let mut ran: Vec<Vec<String>> = Vec::new();
    for c in &all {
        let args = quick(arguments(c));
        if ran.contains(&args) {
            continue;
        }
        ran.push(args.clone());
        let started = Instant::now();
        let o = sharesim_in(dir.path(), &args).output().unwrap();
        let took = started.elapsed().as_secs_f64();
        report.push(format!("{took:6.1} s  sharesim {}", args.join(" ")));
        if !o.status.success() {
            failed.push(format!(
                "{c}\n  ran: sharesim {}\n  exit {:?}\n{}{}",
                args.join(" "),
                o.status.code(),
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    eprintln!("README commands:\n{}", report.join("\n"));
    assert!(
        failed.is_empty(),
        "README commands that failed:\n{}",
        failed.join("\n")
    );
}

#[test]
fn commands_are_found_in_blocks_and_inline_code_and_synopses_left_out() {
    let md = "```sh\ncargo run --release -- sweep a.toml   # comment\nbash .ci/run\n```\n\
        Text (`sharesim size\nb.toml`; `sweep c.toml`) and `sharesim run SCENARIO [--seed N]`,\n\
        `sharesim plot RESULTS.parquet`, `--format table|csv`, `sharesim validate`, `sharesim ...`.\n\
        ```sh\n#SBATCH --array=1-4\nsharesim sweep d.toml\n```\n\
        ```yaml\ncommand: [\"sharesim\"]\n```\n";
    assert_eq!(
        commands(md),
        [
            "cargo run --release -- sweep a.toml",
            "sharesim size b.toml",
            "sharesim validate"
        ]
    );
    assert_eq!(
        arguments("cargo run --release -- sweep a.toml"),
        ["sweep", "a.toml"]
    );
    // Quick overrides for a slow scenario's simulation, none for the fast.
    assert_eq!(
        quick(arguments(
            "target/release/sharesim sweep scenarios/seed-one-percent.toml"
        )),
        [
            "sweep",
            "scenarios/seed-one-percent.toml",
            "--set",
            "replications=1",
            "--set",
            "horizon_h=0.25",
            "--set",
            "warmup_h=0.05"
        ]
    );
    assert_eq!(
        quick(arguments("sharesim size scenarios/azure-trace.toml")),
        ["size", "scenarios/azure-trace.toml"]
    );
}

/// The README's Slurm job-array script is scripts/slurm-sweep.sh, word for
/// word (scripts/slurm-check.sh submits that file).
#[test]
fn readme_slurm_script_is_the_checked_one() {
    let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
    let script = std::fs::read_to_string(repo_file("scripts/slurm-sweep.sh")).unwrap();
    let block = format!("```sh\n{script}```");
    assert!(
        readme.contains(&block),
        "README.md must show scripts/slurm-sweep.sh verbatim in a ```sh block"
    );
}

/// Every file a shipped scenario names (`file = ...`, at any depth) resolves
/// inside the repository and exists.
#[test]
fn shipped_scenarios_name_only_files_in_the_repository() {
    let root = repo_file(".").canonicalize().unwrap();
    let mut named = 0;
    for f in files_under(&repo_file("scenarios")) {
        if f.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let table: toml::Table = std::fs::read_to_string(&f).unwrap().parse().unwrap();
        let mut files = Vec::new();
        file_values(&toml::Value::Table(table), &mut files);
        for rel in files {
            let p = f.parent().unwrap().join(&rel);
            let resolved = p
                .canonicalize()
                .unwrap_or_else(|e| panic!("{}: file = {rel:?}: {e}", f.display()));
            assert!(
                resolved.starts_with(&root),
                "{}: file = {rel:?} is outside the repository",
                f.display()
            );
            named += 1;
        }
    }
    assert!(named >= 1, "azure-trace.toml names its trace");
}

/// The string values of keys named `file` in `v`.
fn file_values(v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                match (k.as_str(), v) {
                    ("file", toml::Value::String(s)) => out.push(s.clone()),
                    _ => file_values(v, out),
                }
            }
        }
        toml::Value::Array(a) => a.iter().for_each(|v| file_values(v, out)),
        _ => {}
    }
}

/// A clone holds only committed files: the azure-trace scenario runs there,
/// with nothing beside the clone, and writes its tables.
#[test]
fn a_clone_runs_the_azure_trace_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let clone: PathBuf = dir.path().join("sharesim");
    let o = Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(repo_file("."))
        .arg(&clone)
        .output()
        .expect("git is needed to clone the repository");
    assert_success(&o);
    // As its header says (`size`), and `run` for the latency tables.
    for command in ["size", "run"] {
        let args: Vec<String> = [command, "scenarios/azure-trace.toml", "--no-charts"]
            .map(String::from)
            .to_vec();
        assert_success(&sharesim_in(&clone, &args).output().unwrap());
    }
    for table in [
        "sizing.parquet",
        "results.parquet",
        "summary.parquet",
        "latency_cdf.parquet",
        "timeline.parquet",
    ] {
        let p = clone.join("notebooks-output/azure-trace").join(table);
        assert!(
            std::fs::metadata(&p).is_ok_and(|m| m.len() > 0),
            "{} not written",
            p.display()
        );
    }
}

/// Each run time the README quotes (`<!-- run-time: COMMAND -->...`) is the
/// one scripts/bench-readme.sh measured for that command and wrote in
/// docs/run-times.md.
#[test]
fn readme_run_times_are_the_benchmarks() {
    let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
    let table = std::fs::read_to_string(repo_file("docs/run-times.md")).unwrap();
    let mut quoted = 0;
    for piece in readme.split("<!-- run-time: ").skip(1) {
        let (command, rest) = piece.split_once(" -->").unwrap();
        let (text, _) = rest
            .split_once("<!-- /run-time -->")
            .unwrap_or_else(|| panic!("run-time of {command}: no closing <!-- /run-time -->"));
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("| `{command}` |")))
            .unwrap_or_else(|| panic!("{command}: no row in docs/run-times.md"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let expected = format!(
            "{} s wall and {} s of CPU time (load average {})",
            cells[2], cells[3], cells[5]
        );
        assert_eq!(
            text, expected,
            "README's run time of {command}: run bash scripts/bench-readme.sh"
        );
        quoted += 1;
    }
    assert!(
        quoted >= 1,
        "the README quotes the default sweep's run time"
    );
}

/// The README's numbers are generated: each `<!-- results:NAME -->` block is
/// what scripts/readme-results.pl writes from the answers the scenarios
/// print (`--format json --all-columns`), and its `--check` fails, naming
/// the block, when the README says otherwise. The cheapest scenarios run
/// here (the others are left alone, and said so); .ci/run checks every fast
/// one with scripts/regenerate-readme-results.sh --check.
#[test]
fn readme_numbers_are_what_the_scenarios_print() {
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("answers");
    std::fs::create_dir(&answers).unwrap();
    for (command, scenario) in [
        ("size", "azure-trace"),
        ("size", "small-models"),
        ("sweep", "latency-and-availability"),
        ("size", "privacy"),
        ("size", "world-scale"),
    ] {
        let o = Command::new(BIN)
            .arg(command)
            .arg(repo_file(&format!("scenarios/{scenario}.toml")))
            .arg("--out")
            .arg(dir.path().join("out"))
            .args(["--format", "json", "--all-columns", "--no-charts"])
            .args(if command == "sweep" {
                &["--quiet"][..]
            } else {
                &[]
            })
            .output()
            .unwrap();
        assert_success(&o);
        std::fs::write(answers.join(format!("{scenario}.json")), &o.stdout).unwrap();
    }
    let check = |readme: &Path| {
        Command::new("perl")
            .arg(repo_file("scripts/readme-results.pl"))
            .arg("--check")
            .arg(&answers)
            .arg(readme)
            .output()
            .expect("perl runs")
    };
    let committed = repo_file("README.md");
    let o = check(&committed);
    let said = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "README numbers differ from the runs (bash scripts/regenerate-readme-results.sh rewrites them):\n{said}"
    );
    assert!(
        said.contains("left alone (no run of default here"),
        "blocks of scenarios not run are named: {said}"
    );

    // One number edited: the check fails and names the block (a world
    // figure too: `size --all-columns` prints world.parquet's columns).
    let text = std::fs::read_to_string(&committed).unwrap();
    for name in ["azure-capex-factor", "world-h100s"] {
        let open = format!("<!-- results:{name} -->");
        let start = text.find(&open).expect("the README quotes the figure") + open.len();
        let end = start + text[start..].find("<!--").unwrap();
        let edited = format!("{}{}1{}", &text[..start], &text[start..end], &text[end..]);
        let copy = write(dir.path(), "README.md", &edited);
        let o = check(&copy);
        let said = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "an edited number passes: {said}");
        assert!(
            said.contains(&format!("results:{name}")),
            "block not named: {said}"
        );
    }

    // A block without a rule (a hand-written number in disguise) is refused.
    let copy = write(
        dir.path(),
        "README.md",
        format!("{text}\n<!-- results:made-up -->7<!-- /results:made-up -->\n"),
    );
    let o = check(&copy);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("results:made-up has no rule"));
}
