//! Calibration: with the shipped catalogue (one parameter set per device,
//! never refitted here), the roofline predicts every checked reference
//! measurement of docs/model.md section 14 within 25 %, and
//! `docs/calibration.md` shows the table the code computes.

use sharesim::llm::Catalog;
use sharesim::llm::{calibration_table, markdown_table, reference_measurements, TOLERANCE};

#[test]
fn catalogue_predicts_every_checked_measurement_within_tolerance() {
    let catalog = Catalog::builtin().expect("the shipped catalogue is valid");
    let rows = calibration_table(&catalog).expect("every measurement can be predicted");
    assert_eq!(rows.len(), reference_measurements().len());
    println!("{}", markdown_table(&rows));
    let failures: Vec<String> = rows
        .iter()
        .filter(|r| r.checked && !r.within_tolerance)
        .map(|r| {
            format!(
                "{} / {} ({}) {}: measured {:.1}, predicted {:.1} ({:+.1} %)",
                r.device,
                r.model,
                r.quantisation,
                r.workload.label(),
                r.measured_tok_s,
                r.predicted_tok_s,
                r.error_pct
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "predictions off by more than {:.0} %:\n{}",
        TOLERANCE * 100.0,
        failures.join("\n")
    );
    // The reference list of docs/model.md section 14 is all there and checked.
    let checked = rows.iter().filter(|r| r.checked).count();
    assert!(checked >= 11, "only {checked} checked rows");
}

#[test]
fn calibrated_parameters_are_physically_plausible() {
    let catalog = Catalog::builtin().unwrap();
    for d in catalog.devices() {
        assert!(d.bandwidth_efficiency <= 0.95, "{}: e_m", d.name);
        assert!(d.compute_efficiency <= 0.9, "{}: e_c", d.name);
        assert!(
            (0.0..=0.020).contains(&d.step_overhead_s),
            "{}: t_0",
            d.name
        );
    }
}

#[test]
fn docs_show_the_computed_table() {
    let catalog = Catalog::builtin().unwrap();
    let table = markdown_table(&calibration_table(&catalog).unwrap());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/calibration.md");
    let doc = std::fs::read_to_string(path).expect("docs/calibration.md exists");
    assert!(
        doc.contains(&table),
        "docs/calibration.md is out of date; replace its table with `sharesim calibrate` \
         output:\n{table}"
    );
}
