//! Rapid7 Recog's fingerprint databases: the XML read into plain data, each
//! pattern translated from Ruby's regular-expression dialect for
//! `fancy-regex`, and the values (`os.vendor`, `hw.product`,
//! `service.version` …) a match yields — as Recog's own Ruby library does
//! (recog-ruby `Fingerprint#match`): a param at position 0 is a fixed value
//! (`{name}` in it is another param's value), any other position a capture
//! group; the database's protocol is `service.protocol` unless a param sets
//! it; `_tmp.` params are dropped.
//!
//! Why `fancy-regex`: Recog's patterns use look-around and back-references,
//! which the `regex` crate refuses; `fancy-regex` runs those with
//! backtracking and hands every other part to `regex`. Ruby's dialect
//! differs in a few places, translated here: `^`/`$` always match at line
//! ends (Rust needs `(?m)`), Ruby's `m` flag and `REG_MULTILINE` mean "dot
//! matches newline" (Rust's `s`), `\w`, `\d` and `\s` are ASCII classes
//! (Rust's are Unicode), `\h` is a hex digit, `\Z` is `\n?\z`, and Ruby
//! allows escaping punctuation Rust does not know as a metacharacter.

use std::collections::BTreeMap;

use base64::Engine;
use quick_xml::events::Event;

/// What a match yields: `os.vendor` → `Microsoft`, …
pub type Values = BTreeMap<String, String>;

/// One Recog file (`ssh_banners.xml`): what it matches and its fingerprints
/// in order (the first that matches wins).
#[derive(Debug)]
pub struct Database {
    /// The file's name without `.xml`.
    pub name: String,
    /// What kind of text it matches: `ssh.banner`, `snmp.sys_description` …
    /// (empty if the file does not say).
    pub matches: String,
    pub protocol: Option<String>,
    pub fingerprints: Vec<Fingerprint>,
    /// Which fingerprints can match a text, from one pass over it.
    prefilter: Prefilter,
}

/// For each fingerprint, literals one of which every match contains (from
/// the pattern's syntax tree), all in one Aho-Corasick automaton: one pass
/// over a text leaves the few fingerprints worth running. Trying the 580
/// sysDescr patterns one by one took 0.4 ms per text; a `RegexSet` of them
/// as long.
#[derive(Debug, Default)]
struct Prefilter {
    automaton: Option<aho_corasick::AhoCorasick>,
    /// The fingerprint each literal of the automaton belongs to.
    owners: Vec<usize>,
    /// Fingerprints with no such literal: always tried.
    always: Vec<usize>,
}

/// Literals shorter than this select too much to be worth it.
const MIN_LITERAL: usize = 3;

impl Prefilter {
    fn new(fingerprints: &[Fingerprint]) -> Prefilter {
        let mut prefilter = Prefilter::default();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        for (index, fingerprint) in fingerprints.iter().enumerate() {
            if fingerprint.regex.is_err() {
                continue;
            }
            let required = translate(&fingerprint.pattern, &fingerprint.flags)
                .ok()
                .and_then(|p| regex_syntax::ParserBuilder::new().build().parse(&p).ok())
                .and_then(|hir| required_literals(&hir))
                .filter(|set| set.iter().all(|l| l.len() >= MIN_LITERAL));
            match required {
                Some(set) => {
                    for literal in set {
                        literals.push(literal);
                        prefilter.owners.push(index);
                    }
                }
                None => prefilter.always.push(index),
            }
        }
        match aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&literals)
        {
            Ok(automaton) => prefilter.automaton = Some(automaton),
            Err(_) => {
                prefilter.always.append(&mut prefilter.owners);
                prefilter.always.sort_unstable();
                prefilter.always.dedup();
            }
        }
        prefilter
    }

    /// The fingerprints that may match `text`, in file order.
    fn candidates(&self, text: &str) -> Vec<usize> {
        let mut found = self.always.clone();
        if let Some(automaton) = &self.automaton {
            found.extend(
                automaton
                    .find_overlapping_iter(text)
                    .map(|m| self.owners[m.pattern().as_usize()]),
            );
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Literals (lower case) one of which every match of `hir` contains, or
/// None if there is no such set. A case-insensitive letter ([Hh], or [Kk\u{212A}])
/// counts as the letter: the automaton ignores ASCII case.
fn required_literals(hir: &regex_syntax::hir::Hir) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Literal(literal) => Some(vec![literal.0.to_ascii_lowercase()]),
        HirKind::Class(Class::Unicode(class)) => {
            let mut letters = class
                .iter()
                .flat_map(|r| r.start()..=r.end())
                .take(4)
                .map(|c| c.to_lowercase().next().unwrap_or(c));
            let first = letters.next()?;
            (first.is_ascii() && letters.all(|c| c == first)).then(|| vec![vec![first as u8]])
        }
        HirKind::Capture(capture) => required_literals(&capture.sub),
        HirKind::Repetition(repetition) if repetition.min >= 1 => {
            required_literals(&repetition.sub)
        }
        HirKind::Alternation(branches) => {
            let mut all = Vec::new();
            for branch in branches {
                all.extend(required_literals(branch)?);
            }
            Some(all)
        }
        HirKind::Concat(parts) => {
            // Adjacent single literals join into longer ones; of the runs,
            // the one whose shortest literal is longest selects best.
            let mut best: Option<Vec<Vec<u8>>> = None;
            let mut run: Option<Vec<Vec<u8>>> = None;
            let shortest = |set: &Vec<Vec<u8>>| set.iter().map(Vec::len).min().unwrap_or(0);
            let consider = |set: Option<Vec<Vec<u8>>>, best: &mut Option<Vec<Vec<u8>>>| {
                if let Some(set) = set
                    && best.as_ref().is_none_or(|b| shortest(&set) > shortest(b))
                {
                    *best = Some(set);
                }
            };
            for part in parts {
                match required_literals(part) {
                    // A single literal extends the run of literals before it.
                    Some(set)
                        if set.len() == 1 && !matches!(part.kind(), HirKind::Repetition(_)) =>
                    {
                        run = Some(match run.take() {
                            Some(mut r) if r.len() == 1 => {
                                r[0].extend_from_slice(&set[0]);
                                r
                            }
                            other => {
                                consider(other, &mut best);
                                set
                            }
                        });
                    }
                    set => {
                        consider(run.take(), &mut best);
                        consider(set, &mut best);
                    }
                }
            }
            consider(run, &mut best);
            best
        }
        _ => None,
    }
}

/// One fingerprint: a pattern, the params it yields and its examples.
#[derive(Debug)]
pub struct Fingerprint {
    pub description: String,
    pub pattern: String,
    pub flags: Vec<String>,
    /// The compiled pattern for one-line texts, or why it could not be
    /// compiled. Without `(?m)` an anchored pattern fails at once on a text
    /// that does not start right, instead of trying every position.
    pub regex: Result<fancy_regex::Regex, String>,
    /// The pattern with Ruby's line anchors, for texts with line breaks
    /// (a multi-line sysDescr); compiled the first time one comes.
    multi_line: std::sync::OnceLock<Option<fancy_regex::Regex>>,
    pub params: Vec<Param>,
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub pos: usize,
    pub name: String,
    pub value: String,
}

/// A self-test: the text, and the values the fingerprint must yield.
#[derive(Debug, Clone)]
pub struct Example {
    pub text: String,
    pub expected: Vec<(String, String)>,
}

/// A Recog file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RecogError {
    #[error("{file}: not Recog XML: {reason}")]
    Xml { file: String, reason: String },
}

impl Database {
    /// Reads one Recog XML file. Patterns that cannot be compiled are kept
    /// with the reason (they never match).
    pub fn parse(name: &str, xml: &str) -> Result<Database, RecogError> {
        let fail = |reason: String| RecogError::Xml {
            file: name.to_owned(),
            reason,
        };
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut database = Database {
            name: name.to_owned(),
            matches: String::new(),
            protocol: None,
            fingerprints: Vec::new(),
            prefilter: Prefilter::default(),
        };
        // The element being read, and the example's attributes.
        let mut current: Option<RawFingerprint> = None;
        let mut text_of: Option<TextOf> = None;
        let mut text = String::new();
        loop {
            let event = reader.read_event().map_err(|e| fail(e.to_string()))?;
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    let attributes = attributes(e).map_err(fail)?;
                    let get = |key: &str| {
                        attributes
                            .iter()
                            .find(|(k, _)| k == key)
                            .map(|(_, v)| v.clone())
                    };
                    match e.name().into_inner() {
                        "fingerprints" => {
                            database.matches = get("matches").unwrap_or_default();
                            database.protocol = get("protocol");
                        }
                        "fingerprint" => {
                            current = Some(RawFingerprint {
                                pattern: get("pattern").unwrap_or_default(),
                                flags: get("flags")
                                    .map(|f| f.split(',').map(|s| s.trim().to_owned()).collect())
                                    .unwrap_or_default(),
                                ..RawFingerprint::default()
                            });
                        }
                        "description" if !empty => {
                            text_of = Some(TextOf::Description);
                            text.clear();
                        }
                        "example" => {
                            let example = TextOf::Example(attributes);
                            if empty {
                                if let Some(f) = current.as_mut() {
                                    f.examples.push(example_of(example, String::new()));
                                }
                            } else {
                                text_of = Some(example);
                                text.clear();
                            }
                        }
                        "param" => {
                            if let Some(f) = current.as_mut() {
                                f.params.push(Param {
                                    pos: get("pos").and_then(|p| p.parse().ok()).unwrap_or(0),
                                    name: get("name").unwrap_or_default(),
                                    value: get("value").unwrap_or_default(),
                                });
                            }
                        }
                        _ => {}
                    }
                }
                // Entities come as their own events.
                Event::Text(t) if text_of.is_some() => text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) if text_of.is_some() => {
                    let entity = format!("&{};", r.into_inner());
                    let resolved = quick_xml::escape::unescape(&entity)
                        .map_err(|e| fail(format!("{entity}: {e}")))?;
                    text.push_str(&resolved);
                }
                Event::CData(t) if text_of.is_some() => text.push_str(&t.into_inner()),
                Event::End(ref e) => match e.name().into_inner() {
                    "description" => {
                        if let (Some(TextOf::Description), Some(f)) =
                            (text_of.take(), current.as_mut())
                        {
                            f.description = text.split_whitespace().collect::<Vec<_>>().join(" ");
                        }
                    }
                    "example" => {
                        if let (Some(example), Some(f)) = (text_of.take(), current.as_mut()) {
                            f.examples
                                .push(example_of(example, std::mem::take(&mut text)));
                        }
                    }
                    "fingerprint" => {
                        if let Some(raw) = current.take() {
                            database.fingerprints.push(raw.compile());
                        }
                    }
                    _ => {}
                },
                Event::Eof => break,
                _ => {}
            }
        }
        if database.fingerprints.is_empty() {
            return Err(fail("no <fingerprint> element".into()));
        }
        database.prefilter = Prefilter::new(&database.fingerprints);
        Ok(database)
    }

    /// The first fingerprint that matches `text`, and what it yields.
    pub fn first_match(&self, text: &str) -> Option<(&Fingerprint, Values)> {
        self.prefilter
            .candidates(text)
            .into_iter()
            .find_map(|index| {
                let f = &self.fingerprints[index];
                f.match_text(text, self).map(|values| (f, values))
            })
    }
}

/// What the text being read belongs to.
enum TextOf {
    Description,
    Example(Vec<(String, String)>),
}

#[derive(Default)]
struct RawFingerprint {
    pattern: String,
    flags: Vec<String>,
    description: String,
    params: Vec<Param>,
    examples: Vec<Example>,
}

impl RawFingerprint {
    fn compile(self) -> Fingerprint {
        let regex = build(&self.pattern, &self.flags, false);
        Fingerprint {
            description: self.description,
            pattern: self.pattern,
            flags: self.flags,
            regex,
            multi_line: std::sync::OnceLock::new(),
            params: self.params,
            examples: self.examples,
        }
    }
}

/// The pattern translated and compiled, for one-line texts or with line
/// anchors.
fn build(pattern: &str, flags: &[String], multi_line: bool) -> Result<fancy_regex::Regex, String> {
    translate_for(pattern, flags, multi_line).and_then(|translated| {
        fancy_regex::RegexBuilder::new(&translated)
            .backtrack_limit(BACKTRACK_LIMIT)
            .build()
            .map_err(|e| e.to_string())
    })
}

/// Steps one backtracking match may take: a device's banner is untrusted
/// text, and a pathological one must cost a bounded time.
const BACKTRACK_LIMIT: usize = 100_000;

fn example_of(attributes: TextOf, text: String) -> Example {
    let TextOf::Example(attributes) = attributes else {
        unreachable!("only examples are passed")
    };
    let base64 = attributes
        .iter()
        .any(|(k, v)| k == "_encoding" && v == "base64");
    let text = if base64 {
        let compact: String = text.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or(text)
    } else {
        text
    };
    Example {
        text,
        expected: attributes
            .into_iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .collect(),
    }
}

fn attributes(e: &quick_xml::events::BytesStart<'_>) -> Result<Vec<(String, String)>, String> {
    e.attributes()
        .map(|a| {
            let a = a.map_err(|e| e.to_string())?;
            let key = a.key.into_inner().to_owned();
            let value = a
                .normalized_value(quick_xml::XmlVersion::default())
                .map_err(|e| e.to_string())?
                .into_owned();
            Ok((key, value))
        })
        .collect()
}

impl Fingerprint {
    /// What this fingerprint yields from `text`, if it matches.
    pub fn match_text(&self, text: &str, database: &Database) -> Option<Values> {
        let regex = if text.contains('\n') {
            self.multi_line
                .get_or_init(|| build(&self.pattern, &self.flags, true).ok())
                .as_ref()?
        } else {
            self.regex.as_ref().ok()?
        };
        // Most candidates do not match: asking that first is cheaper than
        // capturing. A backtracking limit reached is no match.
        if !regex.is_match(text).unwrap_or(false) {
            return None;
        }
        let captures = regex.captures(text).ok()??;
        let mut values = Values::new();
        for param in &self.params {
            if param.pos == 0 {
                values.insert(param.name.clone(), param.value.clone());
            } else if let Some(group) = captures.get(param.pos) {
                values.insert(param.name.clone(), group.as_str().to_owned());
            }
        }
        if let Some(protocol) = &database.protocol {
            values
                .entry("service.protocol".into())
                .or_insert_with(|| protocol.to_lowercase());
        }
        interpolate(&self.params, &mut values);
        values.retain(|k, _| !k.starts_with("_tmp."));
        Some(values)
    }
}

/// `{service.version}` in a fixed value becomes that param's value; a
/// missing version in a CPE becomes `-` (the CPE standard's "any"); any
/// other missing value drops the param (Recog's Ruby raises).
fn interpolate(params: &[Param], values: &mut Values) {
    for param in params
        .iter()
        .filter(|p| p.pos == 0 && p.value.contains('{'))
    {
        let Some(mut value) = values.get(&param.name).cloned() else {
            continue;
        };
        let mut keep = true;
        while let Some(start) = value.find('{') {
            let Some(len) = value[start..].find('}') else {
                break;
            };
            let key = value[start + 1..start + len].to_owned();
            let replacement = match values.get(&key) {
                Some(v) => v.clone(),
                None if param.name.ends_with(".cpe23") && key.ends_with(".version") => "-".into(),
                None => {
                    keep = false;
                    break;
                }
            };
            value.replace_range(start..=start + len, &replacement);
        }
        if keep {
            values.insert(param.name.clone(), value);
        } else {
            values.remove(&param.name);
        }
    }
}

/// Ruby's pattern and Recog's flags as a pattern `fancy-regex` reads the
/// same way, or why it cannot be.
pub fn translate(pattern: &str, flags: &[String]) -> Result<String, String> {
    translate_for(pattern, flags, true)
}

/// [`translate`]; without `multi_line` for texts of one line, where `^` and
/// `$` at the text's ends are Ruby's line anchors.
fn translate_for(pattern: &str, flags: &[String], multi_line: bool) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() + 16);
    // Ruby's ^ and $ match at every line's start and end.
    let mut modes = String::from(if multi_line { "m" } else { "" });
    for flag in flags {
        match flag.as_str() {
            "REG_ICASE" | "IGNORECASE" => modes.push('i'),
            "REG_DOT_NEWLINE" | "REG_LINE_ANY_CRLF" | "REG_MULTILINE" => modes.push('s'),
            other => return Err(format!("unknown Recog flag {other}")),
        }
    }
    if !modes.is_empty() {
        out.push_str(&format!("(?{modes})"));
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut in_class = false;
    // Whether the last token was a quantifier: a '+' right after one makes
    // it possessive.
    let mut after_quantifier = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let quantified = after_quantifier;
        after_quantifier = false;
        match c {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Err("the pattern ends with a lone backslash".into());
                };
                i += 2;
                match next {
                    // Ruby's classes are ASCII; Rust's would be Unicode (and
                    // [\w.-]{1,512} too large to compile).
                    'w' if in_class => out.push_str("0-9A-Za-z_"),
                    'w' => out.push_str("[0-9A-Za-z_]"),
                    'W' if !in_class => out.push_str("[^0-9A-Za-z_]"),
                    'd' if in_class => out.push_str("0-9"),
                    'd' => out.push_str("[0-9]"),
                    'D' if !in_class => out.push_str("[^0-9]"),
                    's' if in_class => out.push_str("\\t\\n\\x0B\\x0C\\r "),
                    's' => out.push_str("[\\t\\n\\x0B\\x0C\\r ]"),
                    'S' if !in_class => out.push_str("[^\\t\\n\\x0B\\x0C\\r ]"),
                    'h' if in_class => out.push_str("0-9a-fA-F"),
                    'h' => out.push_str("[0-9a-fA-F]"),
                    'H' if in_class => {
                        return Err("\\H (not a hex digit) inside a character class".into());
                    }
                    'H' => out.push_str("[^0-9a-fA-F]"),
                    'Z' if !in_class => out.push_str("(?:(?=\\n\\z)|\\z)"),
                    'G' => return Err("\\G (the previous match's end) has no equivalent".into()),
                    // Ruby lets any punctuation be escaped; Rust only its
                    // metacharacters.
                    p if p.is_ascii_punctuation() && !RUST_META.contains(&p) => out.push(p),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A ']' or '^]' right after the opening bracket is literal.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '[' if in_class => {
                // A POSIX class ([:alpha:]) inside a class, or a nested set.
                if chars.get(i + 1) == Some(&':') {
                    let rest: String = chars[i..].iter().collect();
                    if let Some(end) = rest.find(":]") {
                        out.push_str(&rest[..end + 2]);
                        i += rest[..end + 2].chars().count();
                        continue;
                    }
                }
                out.push_str("\\[");
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '(' if !in_class && chars.get(i + 1) == Some(&'?') => {
                // Inline flags: Ruby's m is Rust's s.
                let mut j = i + 2;
                let mut flags = String::new();
                while let Some(&f) = chars.get(j) {
                    if matches!(f, 'i' | 'm' | 'x' | '-') {
                        flags.push(if f == 'm' { 's' } else { f });
                        j += 1;
                    } else {
                        break;
                    }
                }
                if !flags.is_empty() && matches!(chars.get(j), Some(')') | Some(':')) {
                    out.push_str("(?");
                    out.push_str(&flags);
                    i = j;
                    continue;
                }
                if chars.get(i + 2) == Some(&'#') {
                    // A comment group.
                    let rest: String = chars[i..].iter().collect();
                    let end = rest.find(')').ok_or("an unclosed (?# comment")?;
                    i += rest[..=end].chars().count();
                    continue;
                }
                out.push('(');
            }
            '+' if !in_class && quantified => {
                return Err("a possessive quantifier (*+, ++, ?+)".into());
            }
            '*' | '+' | '?' | '}' if !in_class => {
                after_quantifier = true;
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

/// Characters Rust's regex syntax treats as metacharacters (escaping them
/// is allowed; escaping other punctuation is not).
const RUST_META: &[char] = &[
    '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$', '#', '&', '-', '~',
];
