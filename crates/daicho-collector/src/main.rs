//! `daicho-collector`: the ledger's command line — serve the API agents
//! upload to, register the API's clients, import reports carried by hand
//! from air-gapped segments, list the ledger and explain every merge.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use daicho_collector::serve::{ServeConfig, serve};
use daicho_store::{Ingested, Role, Store};

#[derive(Parser)]
#[command(
    name = "daicho-collector",
    version,
    about = "daicho collector: the device ledger made from the agents' reports"
)]
struct Cli {
    /// The ledger: a SQLite file (created if missing) or a postgres:// URL.
    #[arg(
        long,
        global = true,
        default_value = "/var/lib/daicho/ledger.db",
        env = "DAICHO_LEDGER"
    )]
    ledger: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API: agents post reports, readers read the ledger.
    Serve {
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8417")]
        listen: SocketAddr,
        /// PEM certificate chain: serve HTTPS (with --tls-key).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Serve plain HTTP on a non-loopback address.
        #[arg(long)]
        allow_plaintext: bool,
        /// Largest report accepted, in MiB.
        #[arg(long, default_value_t = 64)]
        max_report_mb: usize,
    },
    /// API clients that post reports: one per agent, named as its agent_id.
    #[command(subcommand)]
    Agent(ClientCommand),
    /// API clients that read the ledger (devices, scans, findings).
    #[command(subcommand)]
    Reader(ClientCommand),
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

#[derive(Subcommand)]
enum ClientCommand {
    /// Register a client and print its token (shown once, stored hashed).
    Add { name: String },
    /// Remove a client; its token stops working at once.
    Remove { name: String },
    /// List every API client with its role and when it was last heard from.
    List,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DAICHO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
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
    let store = Store::open(&cli.ledger).await?;
    match cli.command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            allow_plaintext,
            max_report_mb,
        } => {
            let config = ServeConfig {
                listen,
                tls: tls_cert.zip(tls_key),
                allow_plaintext,
                max_report_bytes: max_report_mb.saturating_mul(1 << 20),
            };
            serve(store, config, stop_signal()).await?;
        }
        Command::Agent(command) => clients(&store, Role::Agent, command).await?,
        Command::Reader(command) => clients(&store, Role::Reader, command).await?,
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
                anyhow::bail!("no device #{device} in {}", cli.ledger);
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

async fn clients(store: &Store, role: Role, command: ClientCommand) -> anyhow::Result<()> {
    match command {
        ClientCommand::Add { name } => {
            let token = store.add_client(&name, role).await?;
            println!("{}", token.0);
            eprintln!(
                "daicho-collector: {name} registered. The token above is shown only once: put it in the \
                 agent's configuration now (upload.token). / トークンは一度だけ表示されます"
            );
        }
        ClientCommand::Remove { name } => {
            if !store.remove_client(&name).await? {
                anyhow::bail!("no API client named {name:?} / {name:?} は登録されていません");
            }
            println!("{name} removed; its token no longer works");
        }
        ClientCommand::List => {
            for client in store
                .clients()
                .await?
                .into_iter()
                .filter(|c| c.role == role)
            {
                println!(
                    "{:<24} {:<7} registered {}  last seen {}",
                    client.name,
                    format!("{:?}", client.role).to_lowercase(),
                    client.created_at,
                    client.last_seen.as_deref().unwrap_or("never")
                );
            }
        }
    }
    Ok(())
}

/// Resolves on SIGTERM (systemd's stop) or Ctrl-C.
async fn stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM can be watched");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
