//! Batch reads (`Mailbox::read_parts`): the backend reads the UIDs its index
//! knows in one blocking job; this puts those results back in the caller's
//! order, with `NoSuchMessage` for the UIDs the index did not know.

use super::error::{Result, StorageError};

/// One result per entry of `uids`: the next of `read` where `indexed` is
/// true (`read` holds exactly those, in order), `NoSuchMessage` elsewhere.
pub fn merge_indexed(
    uids: &[u32],
    indexed: &[bool],
    read: Vec<Result<Vec<u8>>>,
) -> Vec<Result<Vec<u8>>> {
    let mut read = read.into_iter();
    uids.iter()
        .zip(indexed)
        .map(|(&uid, &known)| {
            if !known {
                return Err(StorageError::NoSuchMessage(uid));
            }
            read.next().unwrap_or_else(|| {
                Err(StorageError::Internal(format!(
                    "batch read returned no result for UID {uid}"
                )))
            })
        })
        .collect()
}

/// The UIDs of `uids` marked in `indexed`, in order (what the job reads).
pub fn indexed_only(uids: &[u32], indexed: &[bool]) -> Vec<u32> {
    uids.iter()
        .zip(indexed)
        .filter(|&(_, &known)| known)
        .map(|(&u, _)| u)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_uids_get_no_such_message_and_keep_their_place() {
        let uids = [5, 6, 7];
        let indexed = [true, false, true];
        assert_eq!(indexed_only(&uids, &indexed), vec![5, 7]);
        let out = merge_indexed(&uids, &indexed, vec![Ok(b"a".to_vec()), Ok(b"c".to_vec())]);
        assert_eq!(out[0].as_deref().ok(), Some(&b"a"[..]));
        assert!(matches!(out[1], Err(StorageError::NoSuchMessage(6))));
        assert_eq!(out[2].as_deref().ok(), Some(&b"c"[..]));
    }

    #[test]
    fn a_short_job_result_is_an_error_not_a_panic() {
        let out = merge_indexed(&[1, 2], &[true, true], vec![Ok(Vec::new())]);
        assert!(out[0].is_ok());
        assert!(matches!(out[1], Err(StorageError::Internal(_))));
    }
}
