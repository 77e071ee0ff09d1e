use std::path::PathBuf;

#[test]
#[ignore]
fn render_files_from_env() {
    let files = std::env::var("CHART_FILES").unwrap_or_default();
    let out = PathBuf::from(std::env::var("CHART_OUT").unwrap_or("/tmp/charts".into()));
    for f in files.split(':').filter(|s| !s.is_empty()) {
        match sharesim::charts::charts_for_file(&PathBuf::from(f), &out) {
            Ok(p) => eprintln!("{f}: {p:?}"),
            Err(e) => eprintln!("{f}: ERROR {e}"),
        }
    }
}
