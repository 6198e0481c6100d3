//! `daicho-agent`: command line of the discovery agent.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use daicho_agent::config::AgentConfig;
use daicho_agent::duration::parse_duration;
use daicho_agent::probe::Kind;
use daicho_agent::scan::{self, ScanPlan};
use daicho_agent::{output, upload};
use daicho_arp::Progress;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "daicho-agent",
    version,
    about = "daicho discovery agent: finds the devices on the LAN segments it is told to scan"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Log lines as text, or as JSON objects (one per line, for journald or
    /// a log collector; scan summaries included).
    #[arg(long, value_enum, global = true, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// The language of what this command prints (ja, en): the terminal's
    /// locale (LANG) by default.
    #[arg(long, value_enum, global = true, env = "DAICHO_LANG")]
    lang: Option<PrintLang>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PrintLang {
    Ja,
    En,
}

/// The language findings are printed in: --lang, or the locale's.
static PRINT_LANG: std::sync::OnceLock<daicho_report::Lang> = std::sync::OnceLock::new();

fn print_lang() -> daicho_report::Lang {
    *PRINT_LANG.get_or_init(daicho_report::Lang::from_environment)
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Sweep the configured segments and write a report.
    Scan(ScanArgs),
    /// Write the man page and the bash, zsh and fish completions into a
    /// directory (for the Debian package).
    #[command(hide = true)]
    GenerateDocs {
        #[arg(long)]
        out: PathBuf,
    },
    /// Try the configured SNMP credential profiles against one host.
    SnmpTest(SnmpTestArgs),
    /// Send the reports waiting in the spool to the collector.
    Flush(FlushArgs),
    /// Scan again and again (for hosts without systemd): every interval
    /// plus up to a tenth of it at random, until SIGTERM or Ctrl-C.
    Run(RunArgs),
    /// The last scan, the last upload and what waits in the spool.
    Status(StatusArgs),
    /// Check the configuration and the scope (interfaces up, networks
    /// directly connected, nothing public or oversized, exclusions,
    /// credentials, upload settings) without sending a packet.
    Check(CheckArgs),
}

#[derive(clap::Args)]
struct CheckArgs {
    #[arg(short, long)]
    config: PathBuf,
}

#[derive(clap::Args)]
struct StatusArgs {
    #[arg(short, long)]
    config: Option<PathBuf>,
    /// Where the status and the spool are [config: state_dir].
    #[arg(long)]
    state_dir: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Time between scans, e.g. 6h or 30m.
    #[arg(long, value_parser = parse_duration)]
    every: Duration,
    #[command(flatten)]
    scan: ScanArgs,
}

#[derive(clap::Args)]
struct FlushArgs {
    /// agent.toml with [upload].
    #[arg(short, long)]
    config: Option<PathBuf>,
    /// The collector's URL [config: upload.url].
    #[arg(long, value_name = "URL")]
    upload: Option<String>,
    /// Where the spool is [config: state_dir].
    #[arg(long)]
    state_dir: Option<PathBuf>,
}

#[derive(clap::Args)]
struct SnmpTestArgs {
    /// The device to ask (an address you name explicitly).
    host: std::net::IpAddr,
    /// agent.toml with [[snmp.profile]] entries.
    #[arg(short, long)]
    config: PathBuf,
    /// Try only this profile.
    #[arg(long)]
    profile: Option<String>,
    #[arg(long, default_value_t = 161)]
    port: u16,
    /// Allow a public (non-private, non-test) address.
    #[arg(long)]
    allow_public: bool,
}

#[derive(Clone, clap::Args)]
struct ScanArgs {
    /// agent.toml with segments and probe settings (see config/agent.toml).
    #[arg(short, long)]
    config: Option<PathBuf>,
    /// IFACE=CIDR[,CIDR...]: a directly connected network to sweep. Repeatable;
    /// replaces the segments of the config file.
    #[arg(long = "segment", value_name = "IFACE=CIDR[,CIDR...]")]
    segments: Vec<String>,
    /// IP or CIDR that must get no packet at all, on every segment. Repeatable.
    #[arg(long = "exclude", value_name = "IP|CIDR")]
    excludes: Vec<String>,
    /// Allow scanning public (non-private, non-test) address space.
    #[arg(long)]
    allow_public: bool,
    /// ARP requests per second on each segment [config: arp.rate, default 500].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    rate: Option<u32>,
    /// Packets per second for the probes after the ARP sweep, all probes
    /// and segments together [config: scan.rate, default 1000].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    probe_rate: Option<u32>,
    /// Requests per address at most, like arp-scan's --retry [default 2].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10))]
    retries: Option<u32>,
    /// Wait for replies after each round, e.g. 500ms or 2s [default 500ms].
    #[arg(long, value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Without CAP_NET_RAW: one UDP datagram per address, then read the kernel's neighbour table.
    #[arg(long)]
    unprivileged: bool,
    /// Write the JSON report to this file.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Agent id in the report [config: agent_id, default: host name].
    #[arg(long)]
    agent_id: Option<String>,
    /// Skip a probe for this run (repeatable) [config: [snmp] enabled = false].
    #[arg(long = "skip-probe", value_enum, value_name = "PROBE")]
    skip_probes: Vec<Kind>,
    /// Where to keep what the agent learns between scans, and the spool
    /// [config: state_dir].
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Send the report to this collector (kept in the spool until it
    /// acknowledges) [config: upload.url].
    #[arg(long, value_name = "URL")]
    upload: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A table of hosts and a summary.
    Table,
    /// The JSON report.
    Json,
    /// Only the summary lines.
    Summary,
}

/// The Japanese `--help` texts (data beside this crate).
const HELP_JA: &str = include_str!("../help-ja.toml");

fn main() -> ExitCode {
    // Every thread (sweeps, listeners, the blocking pool) would get a malloc
    // arena of its own; none allocates in a hot loop, so one arena serves a
    // scan as well, with about 1.5 MiB less held (measured on the dense /20).
    // SAFETY: mallopt only tunes the allocator, before any thread exists.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
    let cli: Cli = daicho_process::help::parse(HELP_JA);
    if let Command::GenerateDocs { out } = &cli.command {
        return match daicho_process::write_docs(Cli::command(), out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!(
                    "daicho-agent: cannot write {}: {e} / 書き込めません",
                    out.display()
                );
                ExitCode::FAILURE
            }
        };
    }
    // The SNMP library logs every failed request as an error; the agent
    // reports those itself, per host, so they are shown only with -vv.
    let level = match cli.verbose {
        0 => "warn,async_snmp=off",
        1 => "info,async_snmp=off",
        _ => "debug",
    };
    // JSON logs are for machines: they carry the scan summaries (info).
    if let Some(lang) = cli.lang {
        let _ = PRINT_LANG.set(match lang {
            PrintLang::Ja => daicho_report::Lang::Ja,
            PrintLang::En => daicho_report::Lang::En,
        });
    }
    let level = if cli.log_format == LogFormat::Json && cli.verbose == 0 {
        "info,async_snmp=off"
    } else {
        level
    };
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DAICHO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        );
    match cli.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the tokio runtime starts");
    let result = runtime.block_on(async {
        // SIGTERM (systemd's stop) and Ctrl-C end a scan early with what it
        // found, and end `run` after that scan is delivered.
        let stopping = Arc::new(AtomicBool::new(false));
        let on_signal = Arc::clone(&stopping);
        tokio::spawn(async move {
            daicho_process::stop_signal().await;
            eprintln!("daicho-agent: stopping; the current scan ends with what was found so far");
            on_signal.store(true, Relaxed);
        });
        match cli.command {
            Command::Scan(args) => scan_command(args, stopping).await,
            Command::SnmpTest(args) => snmp_test_command(args).await,
            Command::Flush(args) => flush_command(args).await,
            Command::Run(args) => run_command(args, stopping).await,
            Command::Status(args) => status_command(args),
            Command::Check(args) => check_command(&args.config),
            Command::GenerateDocs { .. } => unreachable!("handled before the runtime starts"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("daicho-agent: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(path: Option<&PathBuf>) -> anyhow::Result<AgentConfig> {
    Ok(match path {
        Some(path) => AgentConfig::load(path)?,
        None => AgentConfig::default(),
    })
}

/// The spool and the uploader, when a collector is configured.
fn delivery(
    url: Option<&String>,
    state_dir: &std::path::Path,
    config: &AgentConfig,
) -> anyhow::Result<Option<(upload::Spool, upload::Uploader)>> {
    let Some(url) = url.or(config.upload.url.as_ref()) else {
        return Ok(None);
    };
    let uploader = upload::Uploader::new(url, &config.upload)?;
    let spool = upload::Spool::open(&state_dir.join("spool"))?;
    Ok(Some((spool, uploader)))
}

/// Flushes the spool and says what happened; an error if reports wait.
async fn deliver(
    spool: &upload::Spool,
    uploader: &upload::Uploader,
    config: &AgentConfig,
    state_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let flushed = upload::flush(spool, uploader, &config.upload).await?;
    if let Err(e) = daicho_agent::status::record_delivery(state_dir, &flushed) {
        tracing::warn!("cannot record the upload in {}: {e}", state_dir.display());
    }
    tracing::info!(
        delivered = flushed.delivered,
        refused = flushed.refused,
        waiting = flushed.waiting,
        "upload"
    );
    if flushed.delivered > 0 {
        eprintln!(
            "daicho-agent: {} report(s) delivered to the collector",
            flushed.delivered
        );
    }
    if flushed.refused > 0 {
        eprintln!(
            "daicho-agent: the collector refused {} report(s); they are kept in {} with the reason",
            flushed.refused,
            spool.rejected_dir().display()
        );
    }
    if flushed.waiting > 0 {
        anyhow::bail!(
            "{} report(s) wait in the spool and will be sent on the next run or by `daicho-agent flush`: {}\n\
             {} 件の報告をスプールに保存しました。次回の実行時または flush で再送します",
            flushed.waiting,
            flushed
                .last_problem
                .as_deref()
                .unwrap_or("the collector did not answer"),
            flushed.waiting
        );
    }
    Ok(())
}

async fn flush_command(args: FlushArgs) -> anyhow::Result<()> {
    let config = load_config(args.config.as_ref())?;
    let state_dir = config.state_dir(args.state_dir.as_deref());
    let Some((spool, uploader)) = delivery(args.upload.as_ref(), &state_dir, &config)? else {
        anyhow::bail!(
            "no collector to send to: give --upload URL or [upload] url in agent.toml\n\
             送信先のコレクターが設定されていません"
        );
    };
    let waiting = spool.pending()?.len();
    deliver(&spool, &uploader, &config, &state_dir).await?;
    if waiting == 0 {
        eprintln!("daicho-agent: the spool is empty; nothing to send");
    }
    Ok(())
}

/// The command line's say over the configuration file.
fn overrides(args: &ScanArgs) -> scan::Overrides {
    scan::Overrides {
        segments: args.segments.clone(),
        excludes: args.excludes.clone(),
        allow_public: args.allow_public,
        rate: args.rate,
        probe_rate: args.probe_rate,
        retries: args.retries,
        timeout: args.timeout,
        unprivileged: args.unprivileged,
        agent_id: args.agent_id.clone(),
        skip: args.skip_probes.clone(),
        state_dir: args.state_dir.clone(),
    }
}

async fn scan_command(args: ScanArgs, cancel: Arc<AtomicBool>) -> anyhow::Result<()> {
    let config = load_config(args.config.as_ref())?;
    let plan = ScanPlan::from_config(&config, &overrides(&args), &scan::local_interfaces())?;
    let state_dir = config.state_dir(args.state_dir.as_deref());
    // Checked before scanning: a wrong upload setting should not cost a scan.
    let delivery = delivery(args.upload.as_ref(), &state_dir, &config)?;
    tracing::info!(
        segments = plan.segments.len(),
        targets = plan.target_count(),
        rate = plan.sweep.rate,
        "scan planned"
    );

    let progress: Vec<Arc<Progress>> = plan.segments.iter().map(|_| Arc::default()).collect();
    let bar = progress_bar(plan.target_count() as u64, &progress);
    let report = scan::run(&plan, &progress, cancel).await;
    if let Some((bar, ticker)) = bar {
        ticker.abort();
        bar.finish_and_clear();
    }
    let report = report?;

    if let Some(path) = &args.output {
        output::write_report(&report, path)
            .with_context(|| format!("writing the report to {}", path.display()))?;
    }
    match args.format {
        Format::Json => {
            let stdout = std::io::stdout().lock();
            serde_json::to_writer_pretty(stdout, &report)?;
            println!();
        }
        Format::Table => {
            println!("{}", output::table(&report));
            print!("{}", output::summary(&report, print_lang()));
        }
        Format::Summary => print!("{}", output::summary(&report, print_lang())),
    }
    tracing::info!(
        scan = %report.scan_id,
        agent = %report.agent.id,
        observations = report.observations.len(),
        findings = report.findings.len(),
        seconds = report.finished_at.duration_since(report.started_at).as_secs_f64(),
        "scan finished"
    );
    if let Err(e) = std::fs::create_dir_all(&state_dir)
        .and_then(|()| daicho_agent::status::record_scan(&state_dir, &report))
    {
        tracing::warn!("cannot record the scan in {}: {e}", state_dir.display());
    }
    if let Some((spool, uploader)) = delivery {
        spool.put(&report)?;
        deliver(&spool, &uploader, &config, &state_dir).await?;
    }
    Ok(())
}

async fn run_command(args: RunArgs, stopping: Arc<AtomicBool>) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.every >= Duration::from_secs(1),
        "--every must be at least 1s / --every は 1 秒以上にしてください"
    );
    loop {
        // A failed scan or upload is logged; the next round tries again
        // (reports wait in the spool meanwhile).
        if let Err(e) = scan_command(args.scan.clone(), Arc::clone(&stopping)).await {
            tracing::error!("{e:#}");
            eprintln!("daicho-agent: {e:#}");
        }
        if stopping.load(Relaxed) {
            return Ok(());
        }
        let jitter = args.every.mul_f64(random_fraction() / 10.0);
        let wake = tokio::time::Instant::now() + args.every + jitter;
        while tokio::time::Instant::now() < wake {
            if stopping.load(Relaxed) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200).min(wake - tokio::time::Instant::now()))
                .await;
        }
    }
}

/// A number in [0, 1) that differs between agents and runs, for jitter.
fn random_fraction() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    f64::from((nanos ^ std::process::id().wrapping_mul(2_654_435_761)) % 1_000_000) / 1_000_000.0
}

fn check_command(path: &std::path::Path) -> anyhow::Result<()> {
    let config = AgentConfig::load(path)?;
    let checked = daicho_agent::check::check(
        &config,
        &scan::local_interfaces(),
        Some(daicho_agent::check::may_send_raw()),
    );
    print!("{}", daicho_agent::check::render(&checked));
    let problems = checked.iter().filter(|c| !c.ok).count();
    anyhow::ensure!(
        problems == 0,
        "{problems} problem(s) in {}: a scan would be refused or incomplete; fix them above\n\
         {} に {problems} 件の問題があります",
        path.display(),
        path.display()
    );
    println!("{}: ready to scan / スキャンできます", path.display());
    Ok(())
}

fn status_command(args: StatusArgs) -> anyhow::Result<()> {
    let config = load_config(args.config.as_ref())?;
    let state_dir = config.state_dir(args.state_dir.as_deref());
    let status = daicho_agent::status::read(&state_dir);
    let spool_dir = state_dir.join("spool");
    let spool = spool_dir
        .is_dir()
        .then(|| upload::Spool::open(&spool_dir))
        .transpose()?;
    print!("{}", daicho_agent::status::render(&status, spool.as_ref()));
    // With a configuration, say whether the next scan can run at all.
    if let Some(path) = &args.config {
        let checked = daicho_agent::check::check(&config, &scan::local_interfaces(), None);
        let problems: Vec<_> = checked.iter().filter(|c| !c.ok).cloned().collect();
        if problems.is_empty() {
            println!("configuration: {} OK", path.display());
        } else {
            print!(
                "configuration: {} has problems:\n{}",
                path.display(),
                daicho_agent::check::render(&problems)
            );
            anyhow::bail!(
                "the next scan would be refused or incomplete: `daicho-agent check --config {}`",
                path.display()
            );
        }
    }
    Ok(())
}

async fn snmp_test_command(args: SnmpTestArgs) -> anyhow::Result<()> {
    let config = AgentConfig::load(&args.config)?;
    let host_net = ipnet::IpNet::from(args.host);
    let allowed = args.host.is_loopback()
        || matches!(host_net, ipnet::IpNet::V4(v4) if daicho_scope::is_non_public(&v4));
    if !allowed && !args.allow_public {
        anyhow::bail!(
            "{} is public address space; pass --allow-public only if it is your own device\n\
             {} はグローバルアドレスです。自組織の機器の場合のみ --allow-public を指定してください",
            args.host,
            args.host
        );
    }
    let profiles: Vec<_> = config
        .snmp
        .profiles
        .iter()
        .filter(|p| args.profile.as_ref().is_none_or(|name| *name == p.name))
        .cloned()
        .collect();
    if profiles.is_empty() {
        anyhow::bail!(
            "no SNMP profile to try: add [[snmp.profile]] to {} (or fix --profile)\n\
             試す SNMP プロファイルがありません",
            args.config.display()
        );
    }
    let outcome = daicho_agent::snmp_test::run(
        args.host,
        args.port,
        &profiles,
        config.snmp.query_options(),
        &config.snmp.read,
    )
    .await?;
    print!("{}", daicho_agent::snmp_test::render(args.host, &outcome));
    if outcome.attempts.iter().any(|a| a.result.is_ok()) {
        Ok(())
    } else {
        anyhow::bail!("no profile worked for {}", args.host)
    }
}

/// A progress bar on stderr, only when stderr is a terminal.
fn progress_bar(
    total: u64,
    progress: &[Arc<Progress>],
) -> Option<(ProgressBar, tokio::task::JoinHandle<()>)> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{spinner} ARP {bar:40} {pos}/{len} sent, {msg}")
            .expect("the template is valid"),
    );
    let (ticking, counters) = (bar.clone(), progress.to_vec());
    let ticker = tokio::spawn(async move {
        loop {
            let sent: u64 = counters.iter().map(|p| p.sent.load(Relaxed)).sum();
            let found: u64 = counters.iter().map(|p| p.answered.load(Relaxed)).sum();
            ticking.set_position(sent.min(total));
            ticking.set_message(format!("{found} answered"));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    Some((bar, ticker))
}

#[cfg(test)]
mod help_tests {
    use clap::CommandFactory;

    #[test]
    fn every_command_and_option_has_japanese_help() {
        let missing = daicho_process::help::untranslated(
            &super::Cli::command(),
            &daicho_process::help::HelpTable::parse(super::HELP_JA).unwrap(),
        );
        assert!(missing.is_empty(), "help-ja.toml lacks: {missing:#?}");
    }
}
