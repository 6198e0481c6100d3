//! The man page and the shell completions of a command, generated from its
//! own clap definition (so they never drift from `--help`), for the Debian
//! packages: `daicho-agent generate-docs --out DIR`.

use std::path::Path;

use clap_complete::Shell;

/// Writes `NAME.1` and a page per subcommand (`NAME-SUB.1`, as the main
/// page refers to them; roff), and the bash (`NAME.bash`), zsh (`_NAME`)
/// and fish (`NAME.fish`) completions of `command` into `out`. Hidden
/// subcommands get no page (clap_complete still completes them).
pub fn write_docs(command: clap::Command, out: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let name = command.get_name().to_owned();
    let mut command = command;
    command.build();
    write_page(&command, &name, out)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let page_name = format!("{name}-{}", sub.get_name());
        write_page(&sub.clone().name(page_name.clone()), &page_name, out)?;
    }
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut command, &name, out)?;
    }
    Ok(())
}

fn write_page(command: &clap::Command, name: &str, out: &Path) -> std::io::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    std::fs::write(out.join(format!("{name}.1")), page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_gets_its_man_page_and_three_completions() {
        let out = std::env::temp_dir().join(format!("daicho-docs-{}", std::process::id()));
        let command = clap::Command::new("daicho-demo")
            .about("scans a demo")
            .subcommand(clap::Command::new("scan").about("one scan"));
        write_docs(command, &out).unwrap();
        let page = std::fs::read_to_string(out.join("daicho-demo.1")).unwrap();
        assert!(
            page.contains(".TH daicho-demo") && page.contains("scans a demo"),
            "{page}"
        );
        let scan = std::fs::read_to_string(out.join("daicho-demo-scan.1")).unwrap();
        assert!(scan.contains("one scan"), "{scan}");
        for file in ["daicho-demo.bash", "_daicho-demo", "daicho-demo.fish"] {
            let text = std::fs::read_to_string(out.join(file)).unwrap();
            assert!(text.contains("scan"), "{file}: {text}");
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}
