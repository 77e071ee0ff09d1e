//! Calibration through the engine: every row of the shipped measurement
//! table, simulated with one fitted parameter set per (device, engine) pair,
//! is within its tolerance; every pair with three or more set-ups predicts
//! each left-out set-up within 30 %; and docs/calibration.md and
//! scenarios/catalog/calibrated.toml are what the fit writes.

use std::path::Path;
use std::sync::OnceLock;

use sharesim::calibration::{
    calibrate, calibrated_toml, markdown, read_measurements, shipped_measurements, Calibration,
    Setup, LOO_TOLERANCE, MEASUREMENTS_CSV,
};
use sharesim::llm::{Catalog, EngineCatalog};

fn shipped() -> &'static Calibration {
    static C: OnceLock<Calibration> = OnceLock::new();
    C.get_or_init(|| {
        let rows = shipped_measurements().unwrap();
        let priors = EngineCatalog::priors().unwrap();
        let catalog = Catalog::builtin().unwrap().with_engines(priors.clone());
        calibrate(&rows, &catalog, &priors).expect("every row can be simulated")
    })
}

#[test]
fn every_row_is_within_its_tolerance() {
    let c = shipped();
    assert!(c.rows.len() >= 34);
    let bad: Vec<String> = c
        .rows
        .iter()
        .filter(|r| !r.within)
        .map(|r| {
            format!(
                "{}: measured {}, predicted {} ({:+.1} %)",
                r.m.id,
                r.m.value,
                r.predicted,
                r.error * 100.0
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "rows outside tolerance:\n{}",
        bad.join("\n")
    );
    // The shipped table's new set-ups are all fitted, not only shown.
    for id in [
        "h100-vllm-tp8-c4-tpot",
        "h100-vllm-tp2-c64-power",
        "spark-llamacpp-b32",
        "spark-vllm-c64",
        "strix-llamacpp-pp512",
    ] {
        let r = c.rows.iter().find(|r| r.m.id == id).unwrap();
        assert!(r.fitted && r.tolerance <= 0.25, "{id}");
    }
}

#[test]
fn leaving_a_setup_out_still_predicts_it() {
    let c = shipped();
    // Pairs with three or more set-ups: H100 vLLM (4), Spark llama.cpp (5),
    // Spark vLLM (3), Framework llama.cpp (4).
    let pairs: std::collections::BTreeSet<&str> = c.loo.iter().map(|l| l.pair.as_str()).collect();
    for p in [
        "h100_sxm.vllm",
        "dgx_spark.llama.cpp",
        "dgx_spark.vllm",
        "framework_desktop.llama.cpp",
    ] {
        assert!(pairs.contains(p), "{p} not checked: {pairs:?}");
    }
    let bad: Vec<String> = c
        .loo
        .iter()
        .filter(|l| l.asserted && !l.within)
        .map(|l| {
            format!(
                "{} {} {}: {:+.1} %",
                l.pair,
                l.m.id,
                l.m.metric.name(),
                l.error * 100.0
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "left-out set-ups off by more than {LOO_TOLERANCE}:\n{}",
        bad.join("\n")
    );
    assert!(c.loo.iter().filter(|l| l.asserted).count() >= 15);
}

#[test]
fn fitted_parameters_are_inside_their_physical_bounds() {
    for (p, free) in &shipped().params {
        assert!(p.value >= p.lo && p.value <= p.hi, "{:?}", p);
        if !free {
            assert_eq!(p.value, p.prior);
        }
    }
}

#[test]
fn docs_and_fitted_values_are_current() {
    let c = shipped();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/calibration.md")).unwrap();
    let toml = std::fs::read_to_string(root.join("scenarios/catalog/calibrated.toml")).unwrap();
    let fix = "run `cargo run --release -- calibrate --write` from the repository root";
    assert!(
        doc == markdown(c),
        "docs/calibration.md is out of date: {fix}"
    );
    assert!(
        toml == calibrated_toml(c),
        "scenarios/catalog/calibrated.toml is out of date: {fix}"
    );
}

#[test]
fn the_shipped_catalogue_carries_the_fitted_values() {
    let catalog = Catalog::builtin().unwrap();
    let c = shipped();
    let fitted = c
        .params
        .iter()
        .find(|(p, free)| {
            *free && p.owner.label() == "h100_sxm.vllm" && p.field.key() == "layer_overhead_s"
        })
        .unwrap();
    let profile = catalog.engines().profile("h100_sxm", "vllm").unwrap();
    assert_eq!(profile.layer_overhead_s, fitted.0.value);
    assert!(profile.fitted.iter().any(|k| k == "layer_overhead_s"));
    // A copied profile carries the copied pair's fitted values.
    let h200 = catalog.engines().profile("h200", "vllm").unwrap();
    assert_eq!(h200.layer_overhead_s, profile.layer_overhead_s);
}

#[test]
fn a_row_the_engine_cannot_run_is_an_error_naming_it() {
    let text = format!("{}\nbad-row,h100_sxm,vllm,gpt_oss_120b,mxfp4,1,closed_loop,4,1024,1,output_tok_s_per_gpu,100,tok/s,x,y\n", MEASUREMENTS_CSV.lines().next().unwrap());
    let e = read_measurements(&text, Path::new("m.csv"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("m.csv:2") && e.contains("bad-row") && e.contains("output_tokens >= 2"),
        "{e}"
    );
    let text = format!("{}\nno-pair,rtx_4090,trtllm,gpt_oss_20b,mxfp4,1,single_stream,1,0,128,decode_tok_s,100,tok/s,x,y\n", MEASUREMENTS_CSV.lines().next().unwrap());
    let rows = read_measurements(&text, Path::new("m.csv")).unwrap();
    assert_eq!(rows[0].setup, Setup::SingleStream);
    let priors = EngineCatalog::priors().unwrap();
    let catalog = Catalog::builtin().unwrap().with_engines(priors.clone());
    let e = calibrate(&rows, &catalog, &priors).unwrap_err().to_string();
    assert!(
        e.contains("no-pair")
            && e.contains("rtx_4090")
            && e.contains("trtllm")
            && e.contains("profiled pairs"),
        "{e}"
    );
}

#[test]
fn the_shipped_profiles_predict_the_shipped_rows_without_refitting() {
    // `calibrate --predict`: the fitted catalogue, no refit, gives the same
    // predictions as the fit's own report (the values are rounded alike).
    let rows = shipped_measurements().unwrap();
    let got = sharesim::calibration::predict_rows(&rows, &Catalog::builtin().unwrap()).unwrap();
    for (g, r) in got.iter().zip(&shipped().rows) {
        assert!(
            (g.predicted - r.predicted).abs() <= 1e-9 * r.predicted,
            "{}: {} vs {}",
            g.m.id,
            g.predicted,
            r.predicted
        );
    }
}
