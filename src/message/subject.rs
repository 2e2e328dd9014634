//! RFC 5256 §2.1 base subject, the key for SORT SUBJECT and THREAD.

use super::header::decode_value;

/// Computes the base subject of a raw Subject value: decoded, blanks
/// collapsed, "Re:", "Fwd:", "[list]" leaders and "(fwd)" trailers removed,
/// "[fwd: ...]" unwrapped. Case is kept; compare with ASCII case folding.
pub fn base_subject(raw_value: &[u8]) -> String {
    let decoded = decode_value(raw_value);
    // Step 1: every run of blanks becomes one space.
    let mut s = String::with_capacity(decoded.len());
    let mut in_space = false;
    for c in decoded.chars() {
        if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
            if !in_space {
                s.push(' ');
            }
            in_space = true;
        } else {
            s.push(c);
            in_space = false;
        }
    }
    let mut cur: &str = &s;
    loop {
        // Step 2: trailers.
        loop {
            let trimmed = cur.trim_end_matches(' ');
            let lower_ends_fwd = trimmed.len() >= 5
                && trimmed.is_char_boundary(trimmed.len() - 5)
                && trimmed[trimmed.len() - 5..].eq_ignore_ascii_case("(fwd)");
            if lower_ends_fwd {
                cur = &trimmed[..trimmed.len() - 5];
            } else {
                cur = trimmed;
                break;
            }
        }
        // Steps 3-5: leaders and blobs.
        loop {
            if let Some(rest) = cur.strip_prefix(' ') {
                cur = rest;
            } else if let Some(rest) = strip_refwd_leader(cur) {
                cur = rest;
            } else if let Some(rest) = strip_blob(cur).filter(|r| !r.trim().is_empty()) {
                cur = rest;
            } else {
                break;
            }
        }
        // Step 6: "[fwd: subject]".
        if cur.len() >= 6
            && cur.is_char_boundary(5)
            && cur[..5].eq_ignore_ascii_case("[fwd:")
            && cur.ends_with(']')
        {
            cur = &cur[5..cur.len() - 1];
            continue;
        }
        return cur.to_string();
    }
}

/// `subj-blob = "[" *BLOBCHAR "]" *WSP`: returns what follows it.
fn strip_blob(s: &str) -> Option<&str> {
    let rest = s.strip_prefix('[')?;
    let close = rest.find(['[', ']'])?;
    if rest.as_bytes()[close] != b']' {
        return None;
    }
    Some(rest[close + 1..].trim_start_matches(' '))
}

/// `*subj-blob subj-refwd`, where `subj-refwd = ("re" / ("fw" ["d"]))
/// *WSP [subj-blob] ":"`: returns what follows the colon.
fn strip_refwd_leader(s: &str) -> Option<&str> {
    let mut cur = s;
    while let Some(rest) = strip_blob(cur) {
        cur = rest;
    }
    let lower_prefix = |p: &str, t: &str| {
        t.len() >= p.len() && t.is_char_boundary(p.len()) && t[..p.len()].eq_ignore_ascii_case(p)
    };
    let after = if lower_prefix("re", cur) {
        &cur[2..]
    } else if lower_prefix("fwd", cur) {
        &cur[3..]
    } else if lower_prefix("fw", cur) {
        &cur[2..]
    } else {
        return None;
    };
    let mut after = after.trim_start_matches(' ');
    if let Some(rest) = strip_blob(after) {
        after = rest;
    }
    after.strip_prefix(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaders_and_trailers() {
        assert_eq!(base_subject(b" Re: hello"), "hello");
        assert_eq!(base_subject(b" RE: Fwd: re:hello (fwd) (FWD)"), "hello");
        assert_eq!(base_subject(b" [list] Re: [list] topic"), "topic");
        assert_eq!(base_subject(b" Re [2]: topic"), "topic");
        assert_eq!(base_subject(b" [Fwd: Re: topic]"), "topic");
        assert_eq!(base_subject(b" Fw:  multiple\t  spaces"), "multiple spaces");
    }

    #[test]
    fn blob_alone_is_kept() {
        assert_eq!(base_subject(b" [only]"), "[only]");
        assert_eq!(base_subject(b""), "");
        assert_eq!(base_subject(b" Re:"), "");
    }

    #[test]
    fn not_leaders() {
        assert_eq!(base_subject(b" Rebate offer"), "Rebate offer");
        assert_eq!(base_subject(b" [unclosed topic"), "[unclosed topic");
    }

    #[test]
    fn encoded_subjects() {
        assert_eq!(base_subject(b" Re: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?="), "Grüße");
        assert_eq!(base_subject(b" =?ISO-8859-1?Q?Re=3A_caf=E9?="), "café");
        assert_eq!(base_subject(" Re: ünïcode (fwd)".as_bytes()), "ünïcode");
    }
}
