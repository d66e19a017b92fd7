//! Data flows one way: http → commands → (domain, persistence). HTTP never reaches persistence,
//! persistence knows nothing of the commands or of HTTP, and the domain knows none of the others.
//! Proven over the manifests, so a dependency that points back up (or skips a layer) fails CI.

use std::collections::BTreeSet;

/// The workspace crates a crate's `[dependencies]` name (build and dev dependencies aside).
fn keel_dependencies(krate: &str) -> BTreeSet<String> {
    let path = format!("{}/../crates/{krate}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut in_dependencies = false;
    let mut found = BTreeSet::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
        } else if in_dependencies
            && let Some(name) = line.split(['=', '.', ' ']).next().filter(|n| n.starts_with("keel"))
        {
            found.insert(name.to_owned());
        }
    }
    found
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[test]
fn dependencies_point_down_only() {
    assert_eq!(keel_dependencies("domain"), set(&[]), "the domain depends on no other layer");
    assert_eq!(keel_dependencies("persistence"), set(&["keel-domain"]), "persistence knows only the domain");
    assert_eq!(
        keel_dependencies("commands"),
        set(&["keel-domain", "keel-persistence"]),
        "the commands know the domain and persistence, not HTTP"
    );
    assert_eq!(
        keel_dependencies("http"),
        set(&["keel-commands", "keel-domain"]),
        "http calls the commands, never persistence"
    );
}
