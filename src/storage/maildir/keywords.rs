//! `dovecot-keywords`: `<index> <name>` lines; index 0–25 is letter a–z.

pub const FILE_NAME: &str = "dovecot-keywords";
/// Keywords that fit in a file name.
pub const MAX_LETTERS: usize = 26;

/// Names by letter index (`None` for unused indexes). Bad lines are skipped.
pub fn parse(bytes: &[u8]) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = Vec::new();
    for line in String::from_utf8_lossy(bytes).lines() {
        let Some((idx, name)) = line.split_once(' ') else {
            continue;
        };
        let Ok(i) = idx.parse::<usize>() else {
            continue;
        };
        if i >= MAX_LETTERS || name.is_empty() || !crate::storage::types::valid_keyword(name) {
            continue;
        }
        if out.len() <= i {
            out.resize(i + 1, None);
        }
        out[i] = Some(name.to_string());
    }
    out
}

pub fn format(names: &[Option<String>]) -> Vec<u8> {
    let mut s = String::new();
    for (i, n) in names.iter().enumerate() {
        if let Some(n) = n {
            s.push_str(&format!("{i} {n}\n"));
        }
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_round_trip() {
        let k = parse(b"0 $Label1\n1 Work\n");
        assert_eq!(k, vec![Some("$Label1".into()), Some("Work".into())]);
        assert_eq!(format(&k), b"0 $Label1\n1 Work\n");
        let sparse = parse(b"2 X\n99 Y\nbad\n0 \n");
        assert_eq!(sparse, vec![None, None, Some("X".into())]);
    }
}
