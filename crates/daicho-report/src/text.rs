//! Text devices send: bytes in whatever code page the device was set up
//! with, and never to be trusted. One decoding order for every probe, and
//! the original bytes kept whenever they were not UTF-8.
//!
//! The order: UTF-8 when the bytes are valid UTF-8 (every modern device,
//! and plain ASCII); else the charset configured for that device or site
//! (`charset`, any WHATWG label: `cp932`/`shift_jis`, `gbk`,
//! `windows-1251`, `euc-jp`, …), CP932 by default — daicho's sites are
//! Japanese, where Windows writes software names and locations in CP932.
//! Bytes that the charset cannot read either are decoded with U+FFFD and
//! said so (`lossy`); the raw bytes stay in the report in every non-UTF-8
//! case, so a wrong guess can be read again.

use encoding_rs::Encoding;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The charset tried after UTF-8 when nothing else is configured.
pub const DEFAULT_CHARSET: &str = "cp932";

/// A charset as configured: a WHATWG encoding label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charset(&'static Encoding);

impl Charset {
    /// The charset a label names (`cp932`, `gbk`, `windows-1251`, …).
    pub fn from_label(label: &str) -> Result<Charset, String> {
        Encoding::for_label(label.trim().as_bytes())
            .map(Charset)
            .ok_or_else(|| {
                format!(
                    "{label:?} is not a charset daicho knows (write e.g. cp932, gbk, windows-1251, euc-jp) \
                     / 文字コード {label:?} は使えません"
                )
            })
    }

    /// The canonical name, as reports say it (`Shift_JIS` for CP932: the
    /// WHATWG decoder of that name is Windows' CP932).
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl Default for Charset {
    fn default() -> Self {
        Charset(encoding_rs::SHIFT_JIS)
    }
}

impl<'de> Deserialize<'de> for Charset {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let label = String::deserialize(deserializer)?;
        Charset::from_label(&label).map_err(serde::de::Error::custom)
    }
}

/// Text a device sent that was not UTF-8: where it was, how it was read,
/// and its bytes as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RawText {
    /// Where it was, e.g. `sysLocation.0` or `hrSWInstalledName.12`.
    pub field: String,
    /// The charset it was decoded with, e.g. `Shift_JIS` (CP932) or `GBK`.
    pub charset: String,
    /// Some bytes were not valid in that charset either (shown as U+FFFD).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lossy: bool,
    /// The bytes as the device sent them, in hex.
    pub hex: String,
}

/// Bytes decoded by the documented order: the text, and — when they were
/// not UTF-8 — how they were read and the raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// None when the bytes were UTF-8.
    pub charset: Option<&'static str>,
    pub lossy: bool,
}

/// Decodes `bytes`: UTF-8 if they are, else `charset`.
pub fn decode(bytes: &[u8], charset: Charset) -> Decoded {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Decoded {
            text: text.to_owned(),
            charset: None,
            lossy: false,
        };
    }
    let (text, lossy) = charset.0.decode_without_bom_handling(bytes);
    Decoded {
        text: text.into_owned(),
        charset: Some(charset.name()),
        lossy,
    }
}

/// The raw record of `bytes` at `field` if they were not UTF-8.
pub fn raw_record(
    field: impl FnOnce() -> String,
    bytes: &[u8],
    decoded: &Decoded,
) -> Option<RawText> {
    let charset = decoded.charset?;
    Some(RawText {
        field: field(),
        charset: charset.to_owned(),
        lossy: decoded.lossy,
        hex: hex(bytes),
    })
}

/// Bytes as lower-case hex (digests, engine IDs, undecodable text).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The longest name or single value kept from a device, in characters: host,
/// computer and service names, model, serial number, a page title, an HTTP
/// header, a certificate name, a TXT record.
pub const MAX_NAME: usize = 256;
/// The longest protocol line kept: an SSDP header (a URL, a USN), an SSH
/// banner.
pub const MAX_LINE: usize = 512;
/// The longest free description kept: a MIB string such as sysDescr, which
/// some devices fill with several lines.
pub const MAX_DESCRIPTION: usize = 1024;

/// Device text for a report, the one cleaner every probe uses: each run of
/// whitespace (line breaks and tabs too) becomes one space, other control
/// characters are dropped (no terminal escapes, no NUL), the ends are
/// trimmed, and at most `max` characters are kept ([`MAX_NAME`],
/// [`MAX_LINE`], [`MAX_DESCRIPTION`]).
pub fn clean_text(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    let mut kept = 0;
    for word in text.split_whitespace() {
        let word = word.chars().filter(|c| !c.is_control());
        let mut word = word.peekable();
        if word.peek().is_none() {
            continue;
        }
        if kept > 0 {
            // A space only with room for a character after it.
            if kept + 1 >= max {
                break;
            }
            out.push(' ');
            kept += 1;
        }
        for c in word {
            if kept == max {
                break;
            }
            out.push(c);
            kept += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(text: &str, label: &str) -> Vec<u8> {
        let encoding = Encoding::for_label(label.as_bytes()).unwrap();
        let (bytes, _, lossy) = encoding.encode(text);
        assert!(!lossy);
        bytes.into_owned()
    }

    #[test]
    fn utf8_first_then_the_charset_and_the_bytes_are_kept() {
        let utf8 = decode("３階 ナースステーション".as_bytes(), Charset::default());
        assert_eq!(
            (utf8.text.as_str(), utf8.charset),
            ("３階 ナースステーション", None)
        );

        let sjis = encoded("３階 ナースステーション", "shift_jis");
        let read = decode(&sjis, Charset::default());
        assert_eq!(read.text, "３階 ナースステーション");
        assert_eq!(read.charset, Some("Shift_JIS"));
        assert!(!read.lossy);
        let raw = raw_record(|| "sysLocation.0".into(), &sjis, &read).unwrap();
        assert_eq!(raw.hex.len(), sjis.len() * 2);

        for (text, label) in [("Привет, мир", "windows-1251"), ("病房三楼护士站", "gbk")]
        {
            let bytes = encoded(text, label);
            let read = decode(&bytes, Charset::from_label(label).unwrap());
            assert_eq!(read.text, text);
            assert!(!read.text.contains('\u{fffd}'));
        }
        // Not CP932 either: read with U+FFFD, and said so.
        let broken = decode(&[0x82, 0xa0, 0x82], Charset::default());
        assert!(broken.lossy && broken.text.contains('\u{fffd}'));
        assert!(Charset::from_label("klingon").is_err());
    }

    #[test]
    fn clean_text_drops_controls_and_caps() {
        assert_eq!(clean_text(" a\u{1b}[31mb\nc ", 100), "a[31mb c");
        assert_eq!(
            clean_text("Cisco IOS\r\n  Version 15\t(1)", 100),
            "Cisco IOS Version 15 (1)"
        );
        assert_eq!(clean_text("\u{0}\u{7} x", 100), "x");
        assert_eq!(clean_text(&"x".repeat(50), 10).len(), 10);
        assert_eq!(clean_text("abc def", 4), "abc");
        assert_eq!(clean_text("日本語の名前", 3), "日本語");
    }
}
