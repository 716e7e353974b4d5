//! Structural checks of a generated script by iPXE's own parsing rules (src/image/script.c,
//! src/core/exec.c): lines, `:labels`, whitespace-separated words, `#` comments,
//! `||`/`&&`/`;` separators and `${setting}` expansion. No iPXE binary can parse a script
//! here without booting, so these rules stand in for it; the boot gate boots real menus.

use std::collections::BTreeSet;

/// Settings the script may read: iPXE's own and the ones it sets.
const KNOWN_SETTINGS: [&str; 6] = [
    "buildarch",
    "repack-base",
    "repack-target",
    "repack-args",
    "repack-arch",
    "repack-choice",
];

/// The commands the menu may use.
const COMMANDS: [&str; 17] = [
    "isset", "set", "iseq", "cpuid", "goto", "echo", "menu", "item", "choose", "imgfree", "kernel",
    "initrd", "boot", "prompt", "shell", "exit", "clear",
];

#[derive(Debug)]
pub struct Parsed {
    pub labels: Vec<String>,
    /// Every command (a line split at separators), comments removed.
    pub commands: Vec<Vec<String>>,
}

/// Parses `script`, panicking with the line number on any rule violation.
pub fn check(script: &str) -> Parsed {
    let mut lines = script.split('\n');
    assert_eq!(lines.next(), Some("#!ipxe"), "first line must be #!ipxe");
    assert!(script.ends_with('\n'), "script ends with a newline");
    let mut labels = Vec::new();
    let mut commands = Vec::new();
    for (number, line) in script.split('\n').enumerate().skip(1) {
        let at = |what: &str| format!("line {}: {what}: {line:?}", number + 1);
        assert!(!line.contains('\r'), "{}", at("carriage return"));
        assert!(!line.ends_with('\\'), "{}", at("line continuation"));
        assert!(
            line.chars().all(|c| (' '..='~').contains(&c)),
            "{}",
            at("non-printable")
        );
        let mut rest = line.trim_start();
        if let Some(label_line) = rest.strip_prefix(':') {
            let label = label_line.split_whitespace().next().unwrap_or("");
            assert!(!label.is_empty(), "{}", at("empty label"));
            // iPXE's goto_find_label ends a label at whitespace; the menu keeps to a safe
            // set (a `$` would be expanded where the label is used as a goto target).
            assert!(
                label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')),
                "{}",
                at("label characters")
            );
            labels.push(label.to_owned());
            rest = label_line[label.len()..].trim_start();
            assert!(rest.is_empty(), "{}", at("command after a label"));
            continue;
        }
        let mut command = Vec::new();
        for word in rest.split_whitespace() {
            if word.starts_with('#') {
                // Only whole-line comments are generated.
                assert!(command.is_empty(), "{}", at("comment after a command"));
                break;
            }
            if matches!(word, "||" | "&&" | ";") {
                commands.push(std::mem::take(&mut command));
                continue;
            }
            check_expansions(word, &at);
            command.push(word.to_owned());
        }
        if !command.is_empty() {
            commands.push(command);
        }
    }
    for command in commands.iter().filter(|c| !c.is_empty()) {
        assert!(
            COMMANDS.contains(&command[0].as_str()),
            "unexpected command {command:?}"
        );
    }
    let unique: BTreeSet<&String> = labels.iter().collect();
    assert_eq!(unique.len(), labels.len(), "duplicate labels in {labels:?}");
    Parsed { labels, commands }
}

fn check_expansions(word: &str, at: &dyn Fn(&str) -> String) {
    let mut rest = word;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .unwrap_or_else(|| panic!("{}", at("unclosed ${")));
        let name = &after[..end];
        assert!(
            KNOWN_SETTINGS.contains(&name),
            "{}",
            at(&format!("unknown setting ${{{name}}}"))
        );
        rest = &after[end + 1..];
    }
}

impl Parsed {
    /// Commands named `name`, with their arguments.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Vec<String>> + 'a {
        self.commands
            .iter()
            .filter(move |c| c.first().map(String::as_str) == Some(name))
    }

    /// Item names offered (gaps excluded).
    pub fn items(&self) -> Vec<String> {
        self.named("item")
            .filter(|c| !c.iter().any(|w| w == "--gap"))
            .map(|c| c[1].clone())
            .collect()
    }

    pub fn has_label(&self, label: &str) -> bool {
        self.labels.iter().any(|l| l == label)
    }

    /// Checks every static `goto` target exists and every item can be reached through the
    /// menu's dynamic `goto repack-item-${repack-choice}`.
    pub fn check_targets(&self) {
        for goto in self.named("goto") {
            let target = &goto[1];
            if !target.contains("${") {
                assert!(self.has_label(target), "goto to missing label {target}");
            }
        }
        assert!(
            self.named("goto")
                .any(|g| g[1] == "repack-item-${repack-choice}"),
            "the menu dispatches on the choice"
        );
        for item in self.items() {
            let label = format!("repack-item-{item}");
            assert!(self.has_label(&label), "item {item} has no label {label}");
        }
    }
}
