//! Turns data/ieee-registry.tsv into sorted integer tables plus one string of
//! names. The tables hold no pointers, so they sit in read-only data that the
//! kernel pages in only where a lookup touches it. (A map of `&'static str`
//! needs a load-time relocation per entry: that alone cost the agent 8 MB of
//! resident memory before it did anything.)

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let source = "data/ieee-registry.tsv";
    println!("cargo:rerun-if-changed={source}");
    let text = std::fs::read_to_string(source).expect("data/ieee-registry.tsv is present");

    let mut names = String::new();
    let mut name_at: HashMap<&str, (u32, u32)> = HashMap::new();
    // Tables by prefix length in bits: 36 (MA-S, IAB), 28 (MA-M), 24 (MA-L, CID).
    let mut tables: [Vec<(u64, u32, u32)>; 3] = Default::default();
    for (number, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (prefix, name) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("{source}:{}: expected PREFIX<TAB>NAME", number + 1));
        let value = u64::from_str_radix(prefix, 16)
            .unwrap_or_else(|_| panic!("{source}:{}: bad prefix {prefix:?}", number + 1));
        let table = match prefix.len() {
            9 => 0,
            7 => 1,
            6 => 2,
            n => panic!("{source}:{}: prefix of {n} hex digits", number + 1),
        };
        let (start, len) = *name_at.entry(name).or_insert_with(|| {
            let start = names.len() as u32;
            names.push_str(name);
            (start, name.len() as u32)
        });
        tables[table].push((value, start, len));
    }

    let mut out = String::new();
    writeln!(out, "static NAMES: &str = {names:?};").unwrap();
    for (label, table) in ["MA_S", "MA_M", "MA_L"].iter().zip(&mut tables) {
        table.sort_unstable();
        writeln!(out, "static {label}: &[(u64, u32, u32)] = &[").unwrap();
        for (prefix, start, len) in table.iter() {
            writeln!(out, "({prefix:#x},{start},{len}),").unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("registry.rs");
    std::fs::write(dest, out).unwrap();
}
