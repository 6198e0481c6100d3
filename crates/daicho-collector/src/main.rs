//! `daicho-collector`: the ledger's command line. Issue #6 so far: reports
//! carried by hand (air-gapped segments) are imported, the ledger listed, and
//! every device's merge explained. The HTTP API, PostgreSQL and agent upload
//! with spool come next.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use daicho_store::{Ingested, Store};

#[derive(Parser)]
#[command(
    name = "daicho-collector",
    version,
    about = "daicho collector: the device ledger made from the agents' reports"
)]
struct Cli {
    /// The ledger database (SQLite; created if missing).
    #[arg(
        long,
        global = true,
        default_value = "/var/lib/daicho/ledger.db",
        env = "DAICHO_LEDGER"
    )]
    ledger: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest report files written by `daicho-agent scan --output`. A report
    /// already ingested (same scan id) changes nothing.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the devices of the ledger.
    Devices,
    /// Say why a device is what it is: its identities and every merge.
    Explain { device: i64 },
    /// Dual-homed hosts and mobile routers across every agent's latest
    /// report (a host seen by two agents on two segments included).
    Findings,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("daicho-collector: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(dir) = cli.ledger.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let store = Store::open(&cli.ledger).await?;
    match cli.command {
        Command::Import { files } => {
            let mut failed = 0;
            for file in &files {
                let outcome = match std::fs::read(file) {
                    Ok(bytes) => store
                        .ingest(&bytes, "import")
                        .await
                        .map_err(anyhow::Error::from),
                    Err(e) => Err(anyhow::Error::from(e)
                        .context("cannot read the file / ファイルを読めません")),
                };
                match outcome {
                    Ok(Ingested::Stored { created, joined }) => println!(
                        "{}: stored ({created} new devices, {joined} joined known ones)",
                        file.display()
                    ),
                    Ok(Ingested::AlreadyKnown) => {
                        println!("{}: already in the ledger; nothing changed", file.display())
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("{}: not imported: {e:#}", file.display());
                    }
                }
            }
            if failed > 0 {
                anyhow::bail!("{failed} of {} files not imported", files.len());
            }
        }
        Command::Devices => {
            for device in store.devices().await? {
                println!(
                    "#{:<5} {:<28} {:<40} last seen {}",
                    device.id,
                    device
                        .name
                        .as_deref()
                        .unwrap_or("-")
                        .escape_debug()
                        .to_string(),
                    device.addresses.join(" "),
                    device.last_seen
                );
            }
        }
        Command::Findings => {
            let reports = store.latest_reports().await?;
            let reports: Vec<&daicho_report::Report> = reports.iter().collect();
            let findings = daicho_detect::detect(&reports, &daicho_detect::Fingerprints::builtin());
            if findings.is_empty() {
                println!(
                    "no findings in the latest reports of {} agents",
                    reports.len()
                );
            }
            for finding in findings {
                println!(
                    "{:?} ({:.0}%): {}",
                    finding.kind,
                    finding.confidence * 100.0,
                    finding.summary.escape_debug()
                );
                for evidence in &finding.evidence {
                    println!("  evidence: {}", evidence.text.escape_debug());
                }
            }
        }
        Command::Explain { device } => {
            let Some(why) = store.explain(device).await? else {
                anyhow::bail!("no device #{device} in {}", cli.ledger.display());
            };
            let d = &why.device;
            println!(
                "device #{} {} — first seen {}, last seen {}",
                d.id,
                d.name.as_deref().unwrap_or("-").escape_debug(),
                d.first_seen,
                d.last_seen
            );
            println!("identities:");
            for (kind, value) in &why.keys {
                println!("  {kind}: {}", value.escape_debug());
            }
            println!("merges:");
            for merge in &why.decisions {
                let what = if merge.created { "created" } else { "joined" };
                println!(
                    "  scan {} {} {}: {what}",
                    merge.scan_id,
                    merge.interface,
                    merge.ip.as_deref().unwrap_or("-")
                );
                for reason in &merge.reasons {
                    println!("    - {}", reason.escape_debug());
                }
            }
        }
    }
    Ok(())
}
