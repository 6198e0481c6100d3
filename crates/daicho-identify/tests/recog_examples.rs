//! Recog's own examples as the test suite: every `<example>` in every
//! vendored Recog file states a text and the values its fingerprint must
//! yield. Each one passes, or is listed in `data/recog-known-failures.tsv`
//! with the reason it cannot (a listed one that passes, or an unlisted
//! failure, fails this test — the list says exactly what does not work).

use std::collections::BTreeSet;
use std::path::Path;

use daicho_identify::recog::Database;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/recog");
/// daicho's own fingerprints, in Recog's format: their examples run too.
const OWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/daicho");
const KNOWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/recog-known-failures.tsv");

/// (file, example text as written in the list) of every failing example,
/// with the reason.
fn failures() -> (usize, Vec<(String, String, String)>) {
    let mut files: Vec<_> = std::fs::read_dir(DATA)
        .unwrap()
        .chain(std::fs::read_dir(OWN).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    let mut total = 0;
    let mut failed = Vec::new();
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let xml = std::fs::read_to_string(&path).unwrap();
        let database = Database::parse(&name, &xml).unwrap_or_else(|e| panic!("{e}"));
        for fingerprint in &database.fingerprints {
            for example in &fingerprint.examples {
                total += 1;
                let why = match (
                    &fingerprint.regex,
                    fingerprint.match_text(&example.text, &database),
                ) {
                    (Err(reason), _) => Some(format!("pattern not usable: {reason}")),
                    (Ok(_), None) => Some("the pattern does not match the example".to_owned()),
                    (Ok(_), Some(values)) => example
                        .expected
                        .iter()
                        .find(|(k, v)| values.get(k) != Some(v))
                        .map(|(k, v)| format!("{k}: expected {v:?}, got {:?}", values.get(k))),
                };
                if let Some(why) = why {
                    failed.push((name.clone(), escaped(&example.text), why));
                }
            }
        }
    }
    (total, failed)
}

/// An example's text on one line of the list.
fn escaped(text: &str) -> String {
    text.chars()
        .take(160)
        .flat_map(char::escape_default)
        .collect()
}

#[test]
fn every_recog_example_passes_or_is_listed_with_its_reason() {
    assert!(
        Path::new(DATA).join("LICENSE").exists(),
        "Recog's LICENSE ships with its files"
    );
    let (total, failed) = failures();
    let known: BTreeSet<(String, String)> = std::fs::read_to_string(KNOWN)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut fields = l.split('\t');
            Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
        })
        .collect();
    let failing: BTreeSet<(String, String)> = failed
        .iter()
        .map(|(f, t, _)| (f.clone(), t.clone()))
        .collect();
    let unlisted: Vec<String> = failed
        .iter()
        .filter(|(f, t, _)| !known.contains(&(f.clone(), t.clone())))
        .map(|(f, t, why)| format!("{f}\t{t}\t{why}"))
        .collect();
    let stale: Vec<String> = known
        .difference(&failing)
        .map(|(f, t)| format!("{f}\t{t}"))
        .collect();
    let passed = total - failed.len();
    println!(
        "recog examples: {passed} of {total} pass ({:.2} %), {} listed as known failures",
        100.0 * passed as f64 / total as f64,
        failed.len()
    );
    assert!(
        unlisted.is_empty(),
        "failing examples not in {KNOWN} (add them with the reason, or fix the engine):\n{}",
        unlisted.join("\n")
    );
    assert!(
        stale.is_empty(),
        "listed in {KNOWN} but passing now (remove them):\n{}",
        stale.join("\n")
    );
    assert!(total > 7000, "only {total} examples: files missing?");
    assert!(
        passed * 100 >= total * 99,
        "{passed} of {total} is below 99 %"
    );
}
