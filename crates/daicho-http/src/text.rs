//! Reading what a web server sent: the page title (in the page's own
//! encoding — Japanese devices often answer in Shift_JIS or EUC-JP) and the
//! realm of a `WWW-Authenticate` header. Bounded and panic-free.

use encoding_rs::Encoding;

/// How far into the page to look for the title and a `<meta charset>`.
const SEARCH_LIMIT: usize = 16 * 1024;

/// Device text is untrusted: one cleaner and cap for all of it.
pub(crate) fn clean(text: &str) -> String {
    daicho_report::text::clean_text(text, daicho_report::text::MAX_NAME)
}

fn find_ascii_ci(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let haystack = haystack.get(from..)?;
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|at| at + from)
}

/// The charset a `Content-Type` value or a `<meta>` tag names.
fn charset_in(text: &[u8]) -> Option<&'static Encoding> {
    let at = find_ascii_ci(text, b"charset=", 0)? + b"charset=".len();
    let rest = &text[at..];
    let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'))
        .unwrap_or(rest.len());
    Encoding::for_label(&rest[..end])
}

/// The page's `<title>`, decoded by the header's charset, else the page's
/// `<meta>` charset, else UTF-8; entities for `& < > " '` and numeric ones
/// resolved.
pub fn html_title(body: &[u8], content_type: Option<&str>) -> Option<String> {
    let head = &body[..body.len().min(SEARCH_LIMIT)];
    let start = find_ascii_ci(head, b"<title", 0)?;
    let open_end = head[start..].iter().position(|b| *b == b'>')? + start + 1;
    let close = find_ascii_ci(head, b"</title", open_end).unwrap_or(head.len());
    let raw = &head[open_end..close];
    let encoding = content_type
        .and_then(|t| charset_in(t.as_bytes()))
        .or_else(|| charset_in(&head[..start]))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = encoding.decode(raw);
    let title = clean(&decode_entities(&text));
    (!title.is_empty()).then_some(title)
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // Entities are short; look no further than 12 bytes for the ';'.
        let end = rest
            .char_indices()
            .take_while(|(i, _)| *i < 12)
            .find(|(_, c)| *c == ';')
            .map(|(i, _)| i);
        let Some(end) = end else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" | "#39" => Some('\''),
            "nbsp" => Some(' '),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The realm of a `WWW-Authenticate` value (`Basic realm="Router"`,
/// `Digest realm="..." nonce=...`), quoted or not.
pub fn auth_realm(header: &str) -> Option<String> {
    let lower = header.to_ascii_lowercase();
    let at = lower.find("realm=")? + "realm=".len();
    let rest = &header[at..];
    let realm = match rest.strip_prefix('"') {
        Some(quoted) => {
            let mut value = String::new();
            let mut chars = quoted.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => value.extend(chars.next()),
                    c => value.push(c),
                }
            }
            value
        }
        None => rest.split([',', ' ']).next().unwrap_or_default().to_owned(),
    };
    let realm = clean(&realm);
    (!realm.is_empty()).then_some(realm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_in_the_encodings_devices_use() {
        let page = b"<html><head><TITLE>\n  LTE Router  &amp; Admin </TITLE></head>";
        assert_eq!(
            html_title(page, None).as_deref(),
            Some("LTE Router & Admin")
        );
        let sjis = encoding_rs::SHIFT_JIS
            .encode("<title>電子カルテ端末</title>")
            .0;
        assert_eq!(
            html_title(&sjis, Some("text/html; charset=Shift_JIS")).as_deref(),
            Some("電子カルテ端末")
        );
        let mut meta =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=EUC-JP\">".to_vec();
        meta.extend_from_slice(&encoding_rs::EUC_JP.encode("<title>検査装置</title>").0);
        assert_eq!(
            html_title(&meta, Some("text/html")).as_deref(),
            Some("検査装置")
        );
        assert_eq!(
            html_title(
                b"<title>&#x3C;script&#62;alert(1)&lt;/script></title>",
                None
            )
            .as_deref(),
            Some("<script>alert(1)</script>")
        );
    }

    #[test]
    fn broken_pages_give_what_is_there_or_nothing() {
        assert_eq!(html_title(b"", None), None);
        assert_eq!(html_title(b"<title", None), None);
        assert_eq!(html_title(b"<title></title>", None), None);
        // Cut by the body cap before </title>.
        assert_eq!(
            html_title(b"<title>Printer Web", None).as_deref(),
            Some("Printer Web")
        );
        assert_eq!(
            html_title(b"<title>a &bogus; &#xFFFFFFFF; b</title>", None).as_deref(),
            Some("a &bogus; &#xFFFFFFFF; b")
        );
        let long = format!("<title>{}</title>", "x".repeat(10_000));
        assert_eq!(
            html_title(long.as_bytes(), None).unwrap().len(),
            daicho_report::text::MAX_NAME
        );
        assert_eq!(
            html_title(b"<title>\x1b[2J\x07bell</title>", None).as_deref(),
            Some("[2Jbell")
        );
    }

    #[test]
    fn realms() {
        assert_eq!(
            auth_realm("Basic realm=\"LTE Router Admin\"").as_deref(),
            Some("LTE Router Admin")
        );
        assert_eq!(
            auth_realm("Digest realm=\"a \\\"quoted\\\" one\", nonce=\"x\"").as_deref(),
            Some("a \"quoted\" one")
        );
        assert_eq!(
            auth_realm("Basic REALM=router, charset=UTF-8").as_deref(),
            Some("router")
        );
        assert_eq!(auth_realm("Bearer"), None);
        assert_eq!(auth_realm("Basic realm=\"\""), None);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_never_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), header in ".{0,80}") {
            let _ = html_title(&body, Some(&header));
            let _ = auth_realm(&header);
        }
    }
}
