//! `daicho-collector`: the ledger's command line — serve the API agents
//! upload to, register the API's clients, import reports carried by hand
//! from air-gapped segments, list the ledger and explain every merge.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use daicho_collector::print::{self, shown};
use daicho_collector::reconcile::{ledger_from_rows, reconcile, rows_from_ledger, settle};
use daicho_collector::serve::{ServeConfig, serve};
use daicho_ledger::{CsvEncoding, Encoding, ItemKind, Lang, Mapping, Question, SettlementAction};
use daicho_store::{NewVersion, Role, Store, WebRole};

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
        default_value = "/var/lib/daicho/collector/ledger.db",
        env = "DAICHO_LEDGER"
    )]
    ledger: String,
    /// Log lines as text, or as JSON objects (one per line).
    #[arg(long, value_enum, global = true, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// A site's identification rows (TOML: [[maker]] match/name/kind,
    /// [[object_id]] prefix/kind), read on top of the built-in tables for
    /// the reports this process ingests.
    #[arg(long, global = true, env = "DAICHO_IDENTIFY_TABLES")]
    identify_tables: Option<PathBuf>,
    /// A site's rooms file (CSV: スイッチ,ポート,設置場所): the rooms switch
    /// ports are in. Without it a switch port is only a suggested 設置場所.
    #[arg(long, global = true, env = "DAICHO_ROOMS")]
    rooms: Option<PathBuf>,
    /// The hospital and site the report is for (its title), e.g. "○○病院 本院".
    #[arg(long, global = true, env = "DAICHO_SITE_NAME")]
    site_name: Option<String>,
    /// The time zone times are shown in (pages, report, diff), an IANA name.
    #[arg(long, global = true, env = "DAICHO_TIME_ZONE", default_value = daicho_collector::site::DEFAULT_TIME_ZONE)]
    time_zone: String,
    /// The language of what this command writes (ja, en): the terminal's
    /// locale (LANG) by default; the report and the diagram are Japanese
    /// unless it is given.
    #[arg(long, value_enum, global = true, env = "DAICHO_LANG")]
    lang: Option<ReportLang>,
    #[command(subcommand)]
    command: Command,
}

/// The Japanese `--help` texts (data beside this crate).
const HELP_JA: &str = include_str!("../help-ja.toml");

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Write the man page and the bash, zsh and fish completions into a
    /// directory (for the Debian package).
    #[command(hide = true)]
    GenerateDocs {
        #[arg(long)]
        out: PathBuf,
    },
    /// Create the ledger (or bring an existing one's tables up to date).
    /// Every other command refuses a ledger file that does not exist, so
    /// that a mistyped --ledger path does not start an empty ledger.
    Init,
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
        /// Memory all reports being received share, in MiB (uploads wait
        /// for their turn beyond it).
        #[arg(long, default_value_t = 128)]
        upload_memory_mb: usize,
        /// Open connections at most; more are closed at once.
        #[arg(long, default_value_t = 512)]
        max_connections: usize,
        /// Open connections from one address at most.
        #[arg(long, default_value_t = 64)]
        max_connections_per_address: usize,
        /// The web pages' diff windows.
        #[command(flatten)]
        window: Window,
    },
    /// People who sign in to the web pages (viewers read; editors also
    /// accept and ignore diff items).
    #[command(subcommand)]
    User(UserCommand),
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
    /// List the devices of the ledger; `--format json` is the documented
    /// machine-readable view (interfaces, identities, links, findings).
    Devices {
        #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
        format: DiffFormat,
        #[command(flatten)]
        window: Window,
    },
    /// Devices that are probably one host on weak evidence (a shared name,
    /// adjacent MACs): list them, or confirm (merge) or reject one with
    /// `links confirm|reject L3-7 --by NAME --note "…"`.
    #[command(args_conflicts_with_subcommands = true)]
    Links {
        #[command(subcommand)]
        decide: Option<LinkCommand>,
    },
    /// Say why a device is what it is: its identities and every merge.
    Explain { device: i64 },
    /// Dual-homed hosts and mobile routers across every agent's latest
    /// report (a host seen by two agents on two segments included).
    Findings,
    /// The hospital's declared ledger (機器台帳): import, export, history.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// What differs between the declared ledger and the network; settle an
    /// item with `diff accept|ignore ITEM --by NAME --note "…"`.
    #[command(args_conflicts_with_subcommands = true)]
    Diff {
        #[command(subcommand)]
        settle: Option<SettleCommand>,
        #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
        format: DiffFormat,
        #[command(flatten)]
        window: Window,
    },
    /// Write the HTML report (one self-contained file) for IT staff,
    /// management and the inspection.
    Report {
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        window: Window,
    },
    /// The network diagram (構成図) as one SVG file: segments, switches and
    /// their cables, devices by 種別, and in red what bypasses the design.
    Diagram {
        #[arg(short, long)]
        output: PathBuf,
        /// Only this segment (0, 1, … in the order `diff` lists the agents'
        /// segments); the whole site by default.
        #[arg(long)]
        segment: Option<usize>,
        #[command(flatten)]
        window: Window,
    },
    /// Who did what, when (imports, settlements, clients, ingests).
    Audit,
    /// Checklist 2-②: the remote-maintenance register — list it, record a
    /// device's answers, or read back the sheet of an exported ledger.
    #[command(subcommand)]
    Register(RegisterCommand),
    /// Checklist 2-③: the makers' security disclosures (MDS/SDS).
    #[command(subcommand)]
    Disclosure(DisclosureCommand),
    /// Record a review (確認記録) of the ledger, the register and the
    /// MDS/SDS status, with target dates for items answered いいえ.
    SignOff {
        /// Who reviewed (e.g. 院長, 情報システム委員会).
        #[arg(long)]
        reviewer: String,
        /// The day of the review (YYYY-MM-DD).
        #[arg(long)]
        date: jiff::civil::Date,
        /// E.g. the meeting it was reviewed at.
        #[arg(long, default_value = "")]
        note: String,
        /// A target date for an item still answered いいえ: 2-2=2027-03-31
        /// (items 2-1, 2-2, 2-3); repeat for several.
        #[arg(long = "target", value_parser = parse_target)]
        targets: Vec<(String, jiff::civil::Date)>,
        /// Who records it (for the audit log).
        #[arg(long)]
        by: String,
    },
}

#[derive(Subcommand)]
enum RegisterCommand {
    /// Every device maintained remotely, with its answers and how many
    /// questions are still unanswered.
    List,
    /// Record answers for one device (its 管理番号, or #12 for a device not
    /// declared); the answers not given stay as they were.
    Set {
        device: String,
        #[command(flatten)]
        answers: Box<RegisterAnswers>,
        /// Who records it (for the audit log).
        #[arg(long)]
        by: String,
    },
    /// Read the 「リモート保守」 sheet of a ledger workbook (as `ledger
    /// export` writes it, filled in Excel) and record every row's answers.
    Import {
        file: PathBuf,
        #[arg(long)]
        by: String,
    },
}

#[derive(clap::Args)]
struct RegisterAnswers {
    /// 保守事業者.
    #[arg(long)]
    maintainer: Option<String>,
    /// 接続方法 (VPN, 専用線, LTE・5G ルータ, その他).
    #[arg(long)]
    method: Option<String>,
    /// 接続元の制限.
    #[arg(long)]
    source_restriction: Option<String>,
    /// ID の付与先 (個人 / 共用).
    #[arg(long)]
    id_holder: Option<String>,
    /// 認証方法.
    #[arg(long)]
    authentication: Option<String>,
    /// 接続端末の安全状態の確認.
    #[arg(long)]
    terminal_check: Option<String>,
    /// 実施のタイミングと連絡の有無.
    #[arg(long)]
    timing: Option<String>,
    /// 確認日.
    #[arg(long)]
    checked_on: Option<String>,
    /// 証跡 (a file reference).
    #[arg(long)]
    evidence: Option<String>,
}

impl RegisterAnswers {
    fn given(self) -> Vec<(Question, String)> {
        [
            (Question::Maintainer, self.maintainer),
            (Question::Method, self.method),
            (Question::SourceRestriction, self.source_restriction),
            (Question::IdHolder, self.id_holder),
            (Question::Authentication, self.authentication),
            (Question::TerminalCheck, self.terminal_check),
            (Question::Timing, self.timing),
            (Question::CheckedOn, self.checked_on),
            (Question::Evidence, self.evidence),
        ]
        .into_iter()
        .filter_map(|(q, a)| Some((q, a?)))
        .collect()
    }
}

#[derive(Subcommand)]
enum DisclosureCommand {
    /// Every maker's MDS/SDS status, and the makers in the ledger with none.
    List,
    /// Record a maker's (or system's) MDS/SDS status.
    Set {
        maker: String,
        #[arg(long, value_enum)]
        status: DisclosureStatus,
        /// The form it follows: 6.0 (ガイドライン 6.0 版) or 5.2.
        #[arg(long, default_value = "")]
        version: String,
        /// The day it was received (YYYY-MM-DD).
        #[arg(long)]
        received: Option<jiff::civil::Date>,
        /// Where the document is kept.
        #[arg(long, default_value = "")]
        file: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        by: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DisclosureStatus {
    /// 提出済.
    Submitted,
    /// 依頼中.
    Requested,
    /// 未提出.
    Missing,
}

/// `2-2=2027-03-31` → ("2-2", the date).
fn parse_target(text: &str) -> Result<(String, jiff::civil::Date), String> {
    let (item, day) = text.split_once('=').ok_or_else(|| {
        format!("{text:?}: write ITEM=YYYY-MM-DD, e.g. 2-2=2027-03-31 / 書式は 2-2=2027-03-31")
    })?;
    let item = item.trim();
    if !daicho_collector::inspection::ITEMS
        .iter()
        .any(|(id, _)| *id == item)
    {
        return Err(format!(
            "{item:?} is not a checklist item: use 2-1, 2-2 or 2-3 / 項目は 2-1, 2-2, 2-3 のいずれかです"
        ));
    }
    let day = day
        .trim()
        .parse()
        .map_err(|e| format!("{day:?} is not a date (YYYY-MM-DD): {e} / 日付の書式が違います"))?;
    Ok((item.to_owned(), day))
}

#[derive(clap::Args)]
struct Window {
    /// A device in use not seen for this many days is missing.
    #[arg(long, default_value_t = 30)]
    missing_days: i64,
    /// An agent whose last report is older than this many hours is overdue.
    #[arg(long, default_value_t = 36)]
    overdue_hours: i64,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DiffFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReportLang {
    Ja,
    En,
}

impl ReportLang {
    fn lang(self) -> Lang {
        match self {
            ReportLang::Ja => Lang::Ja,
            ReportLang::En => Lang::En,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FileEncoding {
    Auto,
    Utf8,
    Cp932,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ExportFormat {
    Csv,
    Xlsx,
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Read the ledger file (CSV, XLSX, XLS, ODS) as a new version. A file
    /// with errors imports nothing unless --skip-bad-rows.
    Import {
        file: PathBuf,
        /// Who imports it (for the audit log).
        #[arg(long)]
        by: String,
        #[arg(long, default_value = "")]
        note: String,
        /// CSV text encoding.
        #[arg(long, value_enum, default_value_t = FileEncoding::Auto)]
        encoding: FileEncoding,
        /// Import the good rows and list the bad ones.
        #[arg(long)]
        skip_bad_rows: bool,
        /// TOML file naming this layout's headers ([columns] "資産No" = "management_id").
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Replace the ledger even if rows or whole columns of the current
        /// version would be gone (a new inventory, not an update).
        #[arg(long)]
        replace: bool,
    },
    /// Write the current ledger (with every accepted change) as CSV or XLSX.
    Export {
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, value_enum, default_value_t = ExportFormat::Xlsx)]
        format: ExportFormat,
        /// CSV text encoding: UTF-8 with BOM, or strict CP932.
        #[arg(long, value_enum, default_value_t = FileEncoding::Utf8)]
        encoding: FileEncoding,
    },
    /// Every version of the ledger: when, by whom, from what.
    History,
}

#[derive(Subcommand)]
enum SettleCommand {
    /// Accept an item: the ledger takes what the network shows.
    Accept(SettleArgs),
    /// Ignore an item, with the reason; it comes back if its facts change.
    Ignore(SettleArgs),
    /// A flag (F…): the device is used for remote maintenance, knowingly.
    /// Its ledger row (added if it has none) says 有 and names the
    /// maintainer; it is listed in the remote-maintenance register.
    Sanctioned {
        #[command(flatten)]
        settle: SettleArgs,
        /// 保守事業者: who maintains the device.
        #[arg(long)]
        maintainer: String,
        /// 接続方法: how they connect.
        #[arg(long, value_enum)]
        method: MethodArg,
    },
    /// A flag (F…): the device was removed or disconnected; the item stays
    /// open until a scan no longer sees it.
    Removed(SettleArgs),
    /// A flag (F…): the finding is wrong; it comes back if its evidence
    /// changes.
    FalseFinding(SettleArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum MethodArg {
    Vpn,
    LeasedLine,
    MobileRouter,
    Other,
}

impl From<MethodArg> for daicho_ledger::ConnectionMethod {
    fn from(method: MethodArg) -> Self {
        match method {
            MethodArg::Vpn => daicho_ledger::ConnectionMethod::Vpn,
            MethodArg::LeasedLine => daicho_ledger::ConnectionMethod::LeasedLine,
            MethodArg::MobileRouter => daicho_ledger::ConnectionMethod::MobileRouter,
            MethodArg::Other => daicho_ledger::ConnectionMethod::Other,
        }
    }
}

#[derive(Subcommand)]
enum LinkCommand {
    /// The two devices are one host: the newer merges into the older.
    Confirm(LinkArgs),
    /// The two devices are different: they stay apart for good.
    Reject(LinkArgs),
}

#[derive(clap::Args)]
struct LinkArgs {
    /// The link's id as `links` lists it (L3-7).
    link: String,
    /// Who decides.
    #[arg(long)]
    by: String,
    /// Why (kept in the audit log).
    #[arg(long)]
    note: String,
}

#[derive(clap::Args)]
struct SettleArgs {
    /// The item's id as `diff` lists it (U12, M001, C12-ip, F12-dual_homed).
    item: String,
    /// Who settles it.
    #[arg(long)]
    by: String,
    /// Why (kept in the audit log and the report).
    #[arg(long)]
    note: String,
    #[command(flatten)]
    window: Window,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person. The password is read from standard input (one line),
    /// or asked for when that is a terminal; at least 12 characters.
    Add {
        name: String,
        #[arg(long, value_enum, default_value = "viewer")]
        role: UserRole,
    },
    /// Remove a person and end their sessions.
    Remove { name: String },
    /// List every person with their role.
    List,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum UserRole {
    Viewer,
    Editor,
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
    let cli: Cli = daicho_process::help::parse(HELP_JA);
    if let Command::GenerateDocs { out } = &cli.command {
        return match daicho_process::write_docs(Cli::command(), out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!(
                    "daicho-collector: cannot write {}: {e} / 書き込めません",
                    out.display()
                );
                ExitCode::FAILURE
            }
        };
    }
    if !matches!(cli.command, Command::Serve { .. }) {
        // `daicho-collector diff | head`: a closed pipe ends the command
        // quietly, as it does other Unix tools, instead of a panic.
        // SAFETY: restoring the default disposition of one signal, before
        // any thread is started.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DAICHO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        );
    match cli.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    if let Some(path) = &cli.identify_tables
        && let Err(err) = install_identify_tables(path)
    {
        eprintln!("daicho-collector: {err:#}");
        return ExitCode::FAILURE;
    }
    if let Some(path) = &cli.rooms
        && let Err(err) = install_rooms(path)
    {
        eprintln!("daicho-collector: {err:#}");
        return ExitCode::FAILURE;
    }
    if let Some(name) = &cli.site_name {
        daicho_collector::site::install_name(name);
    }
    if let Err(err) = daicho_collector::site::install_time_zone(&cli.time_zone) {
        eprintln!("daicho-collector: {err:#}");
        return ExitCode::FAILURE;
    }
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
    let is_init = matches!(cli.command, Command::Init);
    if !is_init && is_missing_file(&cli.ledger) {
        anyhow::bail!(
            "there is no ledger at {0}: check --ledger (or DAICHO_LEDGER), or create it with \
             `daicho-collector --ledger {0} init`\n\
             {0} に台帳がありません。--ledger の指定を確認するか、init で作成してください",
            cli.ledger
        );
    }
    let existed = !is_missing_file(&cli.ledger);
    let store = Store::open(&cli.ledger).await?;
    // What the terminal shows follows the locale; documents for the
    // inspection are Japanese unless --lang says otherwise.
    let text_lang = cli
        .lang
        .map_or_else(Lang::from_environment, ReportLang::lang);
    let document_lang = cli.lang.map_or(Lang::Ja, ReportLang::lang);
    match cli.command {
        Command::GenerateDocs { .. } => unreachable!("handled before the runtime starts"),
        Command::Init => println!(
            "{}: {} / {}",
            cli.ledger,
            if existed {
                "ledger already there; its tables are up to date"
            } else {
                "ledger created"
            },
            if existed {
                "台帳は作成済みです（最新の形式です）"
            } else {
                "台帳を作成しました"
            }
        ),
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            allow_plaintext,
            max_report_mb,
            upload_memory_mb,
            max_connections,
            max_connections_per_address,
            window,
        } => {
            let config = ServeConfig {
                missing_days: window.missing_days,
                overdue_hours: window.overdue_hours,
                listen,
                tls: tls_cert.zip(tls_key),
                allow_plaintext,
                max_report_bytes: max_report_mb.saturating_mul(1 << 20),
                upload_memory_bytes: upload_memory_mb.saturating_mul(1 << 20),
                limits: daicho_collector::connections::Limits {
                    connections: max_connections,
                    per_address: max_connections_per_address,
                    ..Default::default()
                },
            };
            serve(store, config, daicho_process::stop_signal()).await?;
        }
        Command::Ledger(command) => ledger_command(&store, command).await?,
        Command::Diff {
            settle,
            format,
            window,
        } => diff_command(&store, settle, format, window, text_lang).await?,
        Command::Report { output, window } => {
            report_command(&store, &output, document_lang, window).await?
        }
        Command::Audit => print!("{}", print::audit(&store.audit_log().await?, text_lang)),
        Command::Register(command) => register_command(&store, command, text_lang).await?,
        Command::Disclosure(command) => disclosure_command(&store, command, text_lang).await?,
        Command::SignOff {
            reviewer,
            date,
            note,
            targets,
            by,
        } => {
            store
                .sign_off(&daicho_store::SignOff {
                    reviewer,
                    day: date.strftime("%Y/%m/%d").to_string(),
                    note,
                    targets: targets
                        .into_iter()
                        .map(|(item, day)| (item, day.strftime("%Y/%m/%d").to_string()))
                        .collect(),
                    actor: by,
                    at: String::new(),
                })
                .await?;
            println!("sign-off recorded / 確認記録を登録しました");
        }
        Command::User(command) => users(&store, command).await?,
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
                    Ok(outcome) => println!("{}", print::imported(file, &outcome)),
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
        Command::Devices { format, window } => match format {
            DiffFormat::Table => print!("{}", print::devices(&store.devices().await?)),
            DiffFormat::Json => {
                let state = reconcile(&store, window.missing_days, window.overdue_hours).await?;
                let view = daicho_collector::inventory::inventory(&store, &state).await?;
                println!("{}", serde_json::to_string_pretty(&view)?);
            }
        },
        Command::Links { decide } => links_command(&store, decide, text_lang).await?,
        Command::Diagram {
            output,
            segment,
            window,
        } => {
            let state = reconcile(&store, window.missing_days, window.overdue_hours).await?;
            if let Some(n) = segment.filter(|n| *n >= state.segments.len()) {
                anyhow::bail!(
                    "there is no segment {n}: the agents' latest reports have {} (0 to {}) \
                     / セグメント {n} はありません",
                    state.segments.len(),
                    state.segments.len().saturating_sub(1)
                );
            }
            let svg = daicho_collector::diagram::svg(&state, document_lang == Lang::Ja, segment);
            daicho_process::write_atomic(&output, |file| file.write_all(svg.as_bytes()))
                .with_context(|| format!("cannot write {} / 書き込めません", output.display()))?;
            println!("{}: diagram written", output.display());
        }
        Command::Findings => {
            let (reports, findings) = daicho_collector::reconcile::latest_findings(&store).await?;
            print!("{}", print::findings(reports.len(), &findings, text_lang));
        }
        Command::Explain { device } => {
            let Some(why) = store.explain(device).await? else {
                anyhow::bail!("no device #{device} in {}", cli.ledger);
            };
            print!("{}", print::explain(&why, text_lang));
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

/// Whether `location` is a file path (not a URL) with no file there.
fn is_missing_file(location: &str) -> bool {
    !location.contains("://")
        && !location.starts_with("sqlite:")
        && !std::path::Path::new(location).exists()
}

/// Shortest password accepted for the web pages.
const MIN_PASSWORD_CHARS: usize = 12;

async fn users(store: &Store, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { name, role } => {
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                eprint!("password for {name} / {name} のパスワード: ");
            }
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("cannot read the password from standard input / パスワードを読めません")?;
            let password = line.trim_end_matches(['\r', '\n']).to_owned();
            anyhow::ensure!(
                password.chars().count() >= MIN_PASSWORD_CHARS,
                "the password must have at least {MIN_PASSWORD_CHARS} characters \
                 / パスワードは {MIN_PASSWORD_CHARS} 文字以上にしてください"
            );
            let role = match role {
                UserRole::Viewer => WebRole::Viewer,
                UserRole::Editor => WebRole::Editor,
            };
            let hash = tokio::task::spawn_blocking(move || daicho_store::hash_password(&password))
                .await??;
            store.add_user(&name, role, &hash).await?;
            println!("{name} added as {}", role.as_str());
        }
        UserCommand::Remove { name } => {
            if !store.remove_user(&name).await? {
                anyhow::bail!("no user named {name:?} / ユーザー {name:?} は登録されていません");
            }
            println!("{name} removed; their sessions ended");
        }
        UserCommand::List => {
            for (name, role, created) in store.users().await? {
                println!("{name:<24} {:<7} added {created}", role.as_str());
            }
        }
    }
    Ok(())
}

async fn ledger_command(store: &Store, command: LedgerCommand) -> anyhow::Result<()> {
    match command {
        LedgerCommand::Import {
            file,
            by,
            note,
            encoding,
            skip_bad_rows,
            mapping,
            replace,
        } => {
            let mapping = match &mapping {
                Some(path) => {
                    Mapping::parse(&std::fs::read_to_string(path).with_context(|| {
                        format!("cannot read the mapping file {}", path.display())
                    })?)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                }
                None => Mapping::default(),
            };
            let bytes = std::fs::read(&file).with_context(|| {
                format!("cannot read {} / ファイルを読めません", file.display())
            })?;
            let name = file.display().to_string();
            let encoding = match encoding {
                FileEncoding::Auto => Encoding::Auto,
                FileEncoding::Utf8 => Encoding::Utf8,
                FileEncoding::Cp932 => Encoding::Cp932,
            };
            let imported = daicho_ledger::read_file(&name, &bytes, encoding, &mapping)?;
            for error in &imported.errors {
                eprintln!("{error}");
            }
            if !imported.errors.is_empty() && !skip_bad_rows {
                anyhow::bail!(
                    "{} problem(s) in {name}: nothing imported. Fix the cells above, or pass --skip-bad-rows \
                     to import the good rows only.\n\
                     {name} に {} 件の問題があるため取り込みませんでした",
                    imported.errors.len(),
                    imported.errors.len()
                );
            }
            for note in &imported.notes {
                eprintln!("{note}");
            }
            for header in &imported.unrecognised {
                eprintln!(
                    "{name}: column {header:?} is not a ledger column; its cells are not read \
                     (name it with --mapping) / 列 {header:?} は台帳の列ではないため読み込みません"
                );
            }
            let current = store.latest_ledger().await?;
            let based_on = current.as_ref().map(|(v, _)| v.id);
            if let Some((version, rows)) = &current {
                let changes = daicho_ledger::compare(&ledger_from_rows(rows)?, &imported.ledger);
                println!(
                    "{name} against ledger version {} / 台帳 v{} との違い:",
                    version.id, version.id
                );
                for line in changes.lines() {
                    println!("  {line}");
                }
                if changes.loses_data() && !replace {
                    anyhow::bail!(
                        "{name} would remove rows or whole columns of ledger version {} (above): nothing imported. \
                         If the file is right, import it again with --replace; if not, check its header row, \
                         its layout (--mapping) and that no quote or sheet is cut short.\n\
                         {name} を取り込むと台帳 v{} の行または列が失われるため、取り込みませんでした。\
                         正しいファイルであれば --replace を付けて再実行してください",
                        version.id,
                        version.id
                    );
                }
            }
            let rows = rows_from_ledger(&imported.ledger);
            let version = store
                .save_ledger_version(NewVersion {
                    actor: &by,
                    source: &name,
                    note: &note,
                    rows: &rows,
                    based_on,
                })
                .await?;
            println!(
                "{name}: ledger version {version}: {} devices, {} cloud services{}",
                imported.ledger.devices.len(),
                imported.ledger.cloud.len(),
                if imported.errors.is_empty() {
                    String::new()
                } else {
                    format!(" ({} bad rows left out)", imported.errors.len())
                }
            );
        }
        LedgerCommand::Export {
            output,
            format,
            encoding,
        } => {
            let state = reconcile(store, 30, 36).await?;
            anyhow::ensure!(
                state.version.is_some(),
                "no ledger imported yet: `daicho-collector ledger import FILE --by NAME` / 台帳が取り込まれていません"
            );
            let bytes = match format {
                ExportFormat::Xlsx => {
                    let inspection = daicho_collector::inspection::inspected(store, &state).await?;
                    daicho_collector::inspection::workbook(&state, &inspection)?
                }
                ExportFormat::Csv => daicho_ledger::to_csv(
                    &state.ledger,
                    if encoding == FileEncoding::Cp932 {
                        CsvEncoding::Cp932
                    } else {
                        CsvEncoding::Utf8Bom
                    },
                )?,
            };
            daicho_process::write_atomic(&output, |file| file.write_all(&bytes))
                .with_context(|| format!("cannot write {} / 書き込めません", output.display()))?;
            println!(
                "{}: {} devices",
                output.display(),
                state.ledger.devices.len()
            );
        }
        LedgerCommand::History => {
            for v in store.ledger_versions().await? {
                println!(
                    "v{:<4} {}  {:<16} {}  {}",
                    v.id,
                    v.at,
                    shown(&v.actor),
                    shown(&v.source),
                    shown(&v.note)
                );
            }
        }
    }
    Ok(())
}

async fn diff_command(
    store: &Store,
    settle_command: Option<SettleCommand>,
    format: DiffFormat,
    window: Window,
    lang: Lang,
) -> anyhow::Result<()> {
    if let Some(command) = settle_command {
        let (action, args, maintenance) = match command {
            SettleCommand::Accept(args) => (SettlementAction::Accept, args, None),
            SettleCommand::Ignore(args) => (SettlementAction::Ignore, args, None),
            SettleCommand::Sanctioned {
                settle,
                maintainer,
                method,
            } => (
                SettlementAction::Sanctioned,
                settle,
                Some(daicho_ledger::RemoteMaintenance {
                    maintainer,
                    method: method.into(),
                }),
            ),
            SettleCommand::Removed(args) => (SettlementAction::Removed, args, None),
            SettleCommand::FalseFinding(args) => (SettlementAction::FalseFinding, args, None),
        };
        let state = reconcile(store, args.window.missing_days, args.window.overdue_hours).await?;
        let done = settle(
            store,
            &state,
            &args.item,
            action,
            &args.by,
            &args.note,
            maintenance,
        )
        .await?;
        println!("{done}");
        return Ok(());
    }
    let state = reconcile(store, window.missing_days, window.overdue_hours).await?;
    if format == DiffFormat::Json {
        println!("{}", serde_json::to_string_pretty(&state.diff)?);
        return Ok(());
    }
    if state.version.is_none() {
        eprintln!(
            "no declared ledger imported yet: every device shows as undeclared \
             (daicho-collector ledger import FILE --by NAME)"
        );
    }
    for kind in [
        ItemKind::Undeclared,
        ItemKind::Missing,
        ItemKind::Changed,
        ItemKind::Flagged,
    ] {
        let items: Vec<_> = state.diff.items.iter().filter(|i| i.kind == kind).collect();
        println!("{} ({}):", kind_title(kind), items.len());
        for item in items {
            println!("  {:<20} {}", item.id, print::said(&item.detail, lang));
            if let Some(location) = &item.location {
                println!("  {:<20}   plugged into / 接続先: {}", "", shown(location));
            }
            for evidence in &item.evidence {
                println!("  {:<20}   evidence: {}", "", print::said(evidence, lang));
            }
        }
    }
    for c in state.coverage.iter().filter(|c| c.overdue) {
        println!(
            "warning: agent {} has not reported since {} (longer than {} hours)",
            shown(&c.agent),
            c.last_report,
            window.overdue_hours
        );
    }
    if !state.diff.ignored.is_empty() {
        println!("({} ignored items hidden)", state.diff.ignored.len());
    }
    if !state.diff.sanctioned.is_empty() {
        println!(
            "Sanctioned remote maintenance / 承認済みのリモートメンテナンス ({}):",
            state.diff.sanctioned.len()
        );
        for item in &state.diff.sanctioned {
            let by = item
                .settlement
                .as_ref()
                .and_then(|s| s.maintenance.as_ref());
            println!(
                "  {:<20} {}{}",
                item.id,
                print::said(&item.detail, lang),
                by.map_or_else(String::new, |m| format!(
                    " — {} ({})",
                    shown(&m.maintainer),
                    m.method.label(lang)
                ))
            );
        }
    }
    Ok(())
}

/// Reads a site's identification file and installs it for this process.
fn install_identify_tables(path: &std::path::Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the identification tables {} / 識別テーブル {} を読み込めません",
            path.display(),
            path.display()
        )
    })?;
    let tables =
        daicho_identify::Tables::builtin().with_site_file(&path.display().to_string(), &text)?;
    daicho_identify::install_tables(tables);
    Ok(())
}

/// Reads a site's rooms file and installs it for this process.
fn install_rooms(path: &std::path::Path) -> anyhow::Result<()> {
    let read = |what: &dyn std::fmt::Display| {
        format!(
            "the rooms file {} {what} / 設置場所ファイル {} を読み込めません",
            path.display(),
            path.display()
        )
    };
    let text = std::fs::read_to_string(path).with_context(|| read(&"cannot be read"))?;
    let rooms = daicho_place::Rooms::from_csv(&text).with_context(|| read(&"is refused"))?;
    daicho_collector::site::install_rooms(rooms);
    Ok(())
}

async fn links_command(
    store: &Store,
    decide: Option<LinkCommand>,
    lang: Lang,
) -> anyhow::Result<()> {
    let (args, confirm) = match decide {
        None => {
            print!("{}", print::links(&store.links().await?, lang));
            return Ok(());
        }
        Some(LinkCommand::Confirm(args)) => (args, true),
        Some(LinkCommand::Reject(args)) => (args, false),
    };
    anyhow::ensure!(
        !args.note.trim().is_empty(),
        "give a reason with --note (it goes to the audit log) / --note で理由を記入してください"
    );
    let link = store
        .decide_link(&args.link, confirm, &args.by, args.note.trim())
        .await?;
    println!(
        "{}: {}",
        link.id(),
        if confirm {
            format!("device #{} merged into #{}", link.newer, link.older)
        } else {
            format!("devices #{} and #{} kept apart", link.older, link.newer)
        }
    );
    Ok(())
}

fn kind_title(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Undeclared => "Undeclared / 未記載",
        ItemKind::Missing => "Missing / 見つからない",
        ItemKind::Changed => "Changed / 記載と相違",
        ItemKind::Flagged => "Flagged (2-(2)) / 要確認",
    }
}

async fn report_command(
    store: &Store,
    output: &std::path::Path,
    lang: Lang,
    window: Window,
) -> anyhow::Result<()> {
    let state = reconcile(store, window.missing_days, window.overdue_hours).await?;
    let inspection = daicho_collector::inspection::inspected(store, &state).await?;
    let html =
        daicho_collector::reconcile::report_html(&state, &inspection, lang, window.missing_days);
    daicho_process::write_atomic(output, |file| file.write_all(html.as_bytes()))
        .with_context(|| format!("cannot write {} / 書き込めません", output.display()))?;
    println!("{}: report written", output.display());
    Ok(())
}

async fn register_command(
    store: &Store,
    command: RegisterCommand,
    lang: Lang,
) -> anyhow::Result<()> {
    let records = daicho_collector::inspection::load(store).await?;
    match command {
        // Only the list needs the reconciled ledger (who is in the register).
        RegisterCommand::List => {
            let state = reconcile(store, 30, 36).await?;
            let register = daicho_collector::inspection::register(&state, &records);
            print!("{}", print::register(&register, lang));
        }
        RegisterCommand::Set {
            device,
            answers,
            by,
        } => {
            let mut stored: std::collections::BTreeMap<String, String> = records
                .register
                .iter()
                .find(|(d, _)| *d == device)
                .map(|(_, a)| a.clone())
                .unwrap_or_default();
            let given = answers.given();
            anyhow::ensure!(
                !given.is_empty(),
                "no answer given: name at least one, e.g. --maintainer ○○メディカル / 回答が指定されていません"
            );
            for (question, answer) in given {
                stored.insert(question.id(), answer);
            }
            store
                .save_register_entry(&device, &stored, &by, "register-edit")
                .await?;
            println!("{}: recorded / 記録しました", shown(&device));
        }
        RegisterCommand::Import { file, by } => {
            let bytes = std::fs::read(&file)
                .with_context(|| format!("cannot read {} / 読めません", file.display()))?;
            let entries = daicho_ledger::read_register(&file.display().to_string(), &bytes)?;
            for entry in &entries {
                let answers = entry
                    .answers
                    .iter()
                    .map(|(q, a)| (q.id(), a.clone()))
                    .collect();
                store
                    .save_register_entry(&entry.device, &answers, &by, "register-import")
                    .await?;
            }
            println!(
                "{}: {} devices recorded / {} 台を記録しました",
                file.display(),
                entries.len(),
                entries.len()
            );
        }
    }
    Ok(())
}

async fn disclosure_command(
    store: &Store,
    command: DisclosureCommand,
    lang: Lang,
) -> anyhow::Result<()> {
    match command {
        DisclosureCommand::List => {
            let state = reconcile(store, 30, 36).await?;
            let inspection = daicho_collector::inspection::inspected(store, &state).await?;
            print!("{}", print::disclosures(&inspection, lang));
        }
        DisclosureCommand::Set {
            maker,
            status,
            version,
            received,
            file,
            note,
            by,
        } => {
            let status = match status {
                DisclosureStatus::Submitted => "submitted",
                DisclosureStatus::Requested => "requested",
                DisclosureStatus::Missing => "missing",
            };
            store
                .save_disclosure(&daicho_store::Disclosure {
                    maker: maker.clone(),
                    status: status.to_owned(),
                    version,
                    received: received
                        .map(|d| d.strftime("%Y/%m/%d").to_string())
                        .unwrap_or_default(),
                    file,
                    note,
                    actor: by,
                    at: String::new(),
                })
                .await?;
            println!("{}: recorded / 記録しました", shown(&maker));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn every_command_and_option_has_japanese_help() {
        let table = daicho_process::help::HelpTable::parse(super::HELP_JA).unwrap();
        let missing = daicho_process::help::untranslated(&super::Cli::command(), &table);
        assert!(missing.is_empty(), "help-ja.toml lacks: {missing:#?}");
        let mut japanese = daicho_process::help::japanese(super::Cli::command(), &table);
        let help = japanese
            .find_subcommand_mut("register")
            .unwrap()
            .find_subcommand_mut("set")
            .unwrap()
            .render_help()
            .to_string();
        assert!(
            help.contains("接続元の制限") && help.contains("使い方"),
            "{help}"
        );
    }
}
