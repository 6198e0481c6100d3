//! Declared-ledger benchmark (issue #7): import of a 100,000-row CP932 CSV,
//! the diff of 100,000 declared rows against 100,000 discovered devices,
//! and the XLSX export of 100,000 rows. Pure work in memory (the file
//! bytes are made first). Run by tests/bench/ledger.sh.

use std::time::Instant;

use daicho_ledger::{
    CsvEncoding, DeclaredRow, DiffOptions, Discovered, Encoding, Field, Ledger, Mapping,
};

const ROWS: u32 = 100_000;

fn ip(n: u32) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(198, 18, 0, 0)) + n)
}

fn mac(n: u32) -> String {
    format!(
        "00:1b:21:{:02x}:{:02x}:{:02x}",
        (n >> 16) & 0xff,
        (n >> 8) & 0xff,
        n & 0xff
    )
}

fn main() -> anyhow::Result<()> {
    // The declared ledger: every row a PC with the MHLW columns filled.
    let declared = Ledger {
        devices: (0..ROWS)
            .map(|n| {
                let mut row = DeclaredRow::default();
                for (field, value) in [
                    (Field::ManagementId, format!("PC-{n:06}")),
                    (Field::Maker, "富士通".to_owned()),
                    (Field::Os, "Win11".to_owned()),
                    (Field::Software, "○○電子カルテ".to_owned()),
                    (Field::SoftwareVersion, "2.0".to_owned()),
                    (Field::Ip, ip(n).to_string()),
                    (Field::ComputerName, format!("PC-{n:06}")),
                    (Field::Location, format!("{}階 診察室", n % 9 + 1)),
                    (Field::User, "看護師".to_owned()),
                    (Field::Registered, "2024/04/01".to_owned()),
                    (Field::Status, "稼働".to_owned()),
                    (Field::Mac, mac(n)),
                ] {
                    row.set(field, value);
                }
                row
            })
            .collect(),
        cloud: Vec::new(),
        updated: None,
    };
    // The network: 90 % as declared, 5 % moved to another address, 5 % new.
    let now = jiff::Timestamp::now();
    let discovered: Vec<Discovered> = (0..ROWS)
        .map(|n| {
            let (id, address) = match n % 20 {
                0 => (n + ROWS, ip(n + ROWS)),
                1 => (n, ip((n + 50_000) % (2 * ROWS))),
                _ => (n, ip(n)),
            };
            Discovered {
                id: i64::from(id) + 1,
                name: Some(format!("PC-{id:06}")),
                names: vec![format!("PC-{id:06}")],
                macs: vec![mac(id)],
                ips: vec![address.into()],
                maker: Some("Fujitsu Client Computing Limited".into()),
                os: Some("Windows 11 Pro".into()),
                last_seen: now,
                ..Discovered::default()
            }
        })
        .collect();

    let csv = daicho_ledger::to_csv(&declared, CsvEncoding::Cp932)?;
    let started = Instant::now();
    let imported =
        daicho_ledger::read_file("ledger.csv", &csv, Encoding::Cp932, &Mapping::default())?;
    let import = started.elapsed();
    anyhow::ensure!(imported.errors.is_empty() && imported.ledger.devices.len() == ROWS as usize);

    let started = Instant::now();
    let diff = daicho_ledger::diff(
        &imported.ledger,
        &discovered,
        &[],
        &DiffOptions {
            now,
            missing_after_days: 30,
            not_scanned: Vec::new(),
        },
    );
    let diffing = started.elapsed();

    let started = Instant::now();
    let xlsx = daicho_ledger::to_xlsx(&imported.ledger)?;
    let export = started.elapsed();

    println!(
        "== declared ledger, {ROWS} rows ({} MB CSV in CP932, {} MB XLSX)",
        csv.len() >> 20,
        xlsx.len() >> 20
    );
    println!(
        "import of the CP932 CSV:          {:>6.2} s (target ≤ 5 s)",
        import.as_secs_f64()
    );
    println!(
        "diff against {ROWS} devices:      {:>6.2} s (target ≤ 2 s): {} items, {} matches",
        diffing.as_secs_f64(),
        diff.items.len(),
        diff.matches.len()
    );
    println!(
        "XLSX export:                      {:>6.2} s (target ≤ 10 s)",
        export.as_secs_f64()
    );
    Ok(())
}
