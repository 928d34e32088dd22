// Shared by the fuzz targets: packs of the repository, read as text.

use std::path::Path;

fn read_pack(dir: &Path) -> Vec<(String, String)> {
    let mut files = vec![("pack.yaml".to_owned(), std::fs::read_to_string(dir.join("pack.yaml")).unwrap_or_default())];
    for sub in ["scripts", "drugs"] {
        let mut names: Vec<_> = std::fs::read_dir(dir.join(sub)).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        names.sort();
        for path in names {
            let name = format!("{sub}/{}", path.file_name().unwrap_or_default().to_string_lossy());
            files.push((name, std::fs::read_to_string(&path).unwrap_or_default()));
        }
    }
    files
}

/// `(relative path, text)` of every file of ki-oncology (manifest first).
#[allow(dead_code)]
pub fn ki_oncology_files() -> Vec<(String, String)> {
    read_pack(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/ki-oncology"))
}

/// The small valid pack of the broken-pack tests: one drug, `testinib`.
#[allow(dead_code)]
pub fn small_pack_files() -> Vec<(String, String)> {
    read_pack(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/broken/_base"))
}
