//! `--help` in Japanese: a command's clap definition with its texts taken
//! from a table (TOML, beside the binary's crate) — each (sub)command's
//! about by its path (`""`, `"ledger import"`), each argument's help by
//! path and id (`"ledger import.by"`) — and clap's own words (Usage,
//! Options, Print help…) in Japanese. The table is data, checked complete
//! against the command by [`untranslated`] in each binary's tests.

use std::collections::BTreeMap;

use clap::{Arg, ArgAction, Command};
use daicho_report::Lang;

/// A binary's Japanese texts.
#[derive(Debug, Default, serde::Deserialize)]
pub struct HelpTable {
    /// Command path → about.
    #[serde(default)]
    pub commands: BTreeMap<String, String>,
    /// `path.arg-id` → help (the path empty for the top command's: `.ledger`);
    /// `*.arg-id` for an argument many commands share.
    #[serde(default)]
    pub args: BTreeMap<String, String>,
}

impl HelpTable {
    fn arg(&self, path: &str, id: &str) -> Option<&String> {
        self.args
            .get(&format!("{path}.{id}"))
            .or_else(|| self.args.get(&format!("*.{id}")))
    }

    pub fn parse(text: &str) -> Result<HelpTable, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

/// Whether `--lang ja|en` among the arguments, or else the locale, asks
/// for Japanese (before clap has parsed anything).
pub fn wants_japanese(args: &[String]) -> bool {
    let given = args
        .windows(2)
        .find_map(|w| (w[0] == "--lang").then(|| w[1].as_str()))
        .or_else(|| args.iter().find_map(|a| a.strip_prefix("--lang=")));
    given
        .and_then(Lang::from_tag)
        .unwrap_or_else(Lang::from_environment)
        == Lang::Ja
}

const TEMPLATE: &str = "{about-with-newline}\n使い方: {usage}\n\n{all-args}{after-help}";

/// `command` with the table's Japanese texts and clap's words in Japanese.
pub fn japanese(command: Command, table: &HelpTable) -> Command {
    localize(command, "", table)
}

fn localize(command: Command, path: &str, table: &HelpTable) -> Command {
    let mut command = command
        .help_template(TEMPLATE)
        .subcommand_help_heading("コマンド")
        .disable_help_flag(true)
        .disable_help_subcommand(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("この説明を表示します"),
        );
    if let Some(about) = table.commands.get(path) {
        command = command.about(about.clone()).long_about(None);
    }
    if command.get_version().is_some() {
        command = command.disable_version_flag(true).arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("版数を表示します"),
        );
    }
    let ids: Vec<String> = command
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    for id in ids {
        let text = table.arg(path, &id).cloned();
        command = command.mut_arg(id.as_str(), |arg| {
            let heading = if arg.is_positional() {
                "引数"
            } else {
                "オプション"
            };
            let arg = arg.help_heading(heading);
            match text {
                Some(text) => arg.help(text).long_help(None),
                None => arg,
            }
        });
    }
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        let sub_path = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        command = command.mut_subcommand(name.as_str(), |sub| localize(sub, &sub_path, table));
    }
    command
}

/// What `table` lacks for `command`: each visible command path and argument
/// key with no Japanese text (the help flags excepted).
pub fn untranslated(command: &Command, table: &HelpTable) -> Vec<String> {
    let mut missing = Vec::new();
    walk(command, "", table, &mut missing);
    missing
}

fn walk(command: &Command, path: &str, table: &HelpTable, missing: &mut Vec<String>) {
    if command.is_hide_set() {
        return;
    }
    if !table.commands.contains_key(path) {
        missing.push(format!("[commands] {path:?}"));
    }
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if arg.is_hide_set()
            || matches!(id, "help" | "version")
            || arg.is_global_set() && !path.is_empty()
        {
            continue;
        }
        if table.arg(path, id).is_none() {
            missing.push(format!("[args] \"{path}.{id}\""));
        }
    }
    for sub in command.get_subcommands() {
        let sub_path = if path.is_empty() {
            sub.get_name().to_owned()
        } else {
            format!("{path} {}", sub.get_name())
        };
        walk(sub, &sub_path, table, missing);
    }
}

/// For a command line clap refused: its message, then what to do in
/// Japanese.
fn japanese_hint(name: &str) -> String {
    format!(
        "コマンドの指定に誤りがあります（上の英語の説明を参照）。使い方は `{name} --help` で確認できます。"
    )
}

/// The process's command line as `T`, with `--help` in Japanese when the
/// locale or `--lang` asks for it (texts from `table`, a binary's
/// help-ja.toml); a refused command line also says what to do in Japanese.
pub fn parse<T: clap::Parser>(table: &str) -> T {
    let args: Vec<String> = std::env::args().collect();
    if !wants_japanese(&args) {
        return T::parse();
    }
    let table = HelpTable::parse(table).unwrap_or_default();
    let command = japanese(T::command(), &table);
    let name = command.get_name().to_owned();
    match command
        .try_get_matches_from(&args)
        .and_then(|matches| T::from_arg_matches(&matches))
    {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            if e.use_stderr() {
                eprintln!("{}", japanese_hint(&name));
            }
            std::process::exit(code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Command {
        Command::new("demo")
            .version("1.0")
            .about("scans a demo")
            .arg(Arg::new("ledger").long("ledger").help("the ledger"))
            .subcommand(
                Command::new("scan")
                    .about("one scan")
                    .arg(Arg::new("rate").long("rate").help("packets per second")),
            )
    }

    fn table() -> HelpTable {
        HelpTable::parse(
            r#"
            [commands]
            "" = "デモを走査します"
            "scan" = "1 回走査します"
            [args]
            ".ledger" = "台帳"
            "scan.rate" = "毎秒の送信数"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn help_reads_in_japanese_from_the_table() {
        let mut command = japanese(demo(), &table());
        let help = command.render_help().to_string();
        assert!(
            help.contains("デモを走査します") && help.contains("使い方:"),
            "{help}"
        );
        assert!(
            help.contains("オプション") && help.contains("台帳"),
            "{help}"
        );
        assert!(
            help.contains("コマンド") && help.contains("1 回走査します"),
            "{help}"
        );
        assert!(!help.contains("Print help"), "{help}");
        let mut scan = command.find_subcommand_mut("scan").unwrap().clone();
        assert!(scan.render_help().to_string().contains("毎秒の送信数"));
    }

    #[test]
    fn a_missing_text_is_named() {
        let mut partial = table();
        partial.args.remove("scan.rate");
        partial.commands.remove("scan");
        assert!(untranslated(&demo(), &table()).is_empty());
        assert_eq!(
            untranslated(&demo(), &partial),
            ["[commands] \"scan\"", "[args] \"scan.rate\""]
        );
    }

    #[test]
    fn the_language_comes_from_the_flag_before_the_locale() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(wants_japanese(&args(&["x", "--lang", "ja", "audit"])));
        assert!(wants_japanese(&args(&["x", "--lang=ja"])));
        assert!(!wants_japanese(&args(&["x", "--lang", "en"])));
    }
}
