//! PAM password check through raw pam-sys: the only `unsafe` code in auth.
//!
//! Why raw FFI and not a wrapper crate: we need `PAM_FAIL_DELAY` (so the
//! module's ~2 s failure sleep is reported to us instead of blocking a
//! helper thread) and `PAM_RHOST`; see shared/notes/stack.md §3.
//!
//! Blocking: `pam_authenticate` runs modules that read /etc/shadow, hash
//! with yescrypt, maybe talk to the network. Call this only from the auth
//! helper's own threads, never from a shard.
//!
//! Memory rule: PAM `free()`s the conversation replies with the C
//! allocator, so they are made with `libc::calloc`/`strdup` — never with
//! Rust's allocator, which may be jemalloc.

use std::cell::Cell;
use std::ffi::{CStr, CString};
use std::ptr;
use std::time::Duration;

use libc::{c_char, c_int, c_uint, c_void};
use pam_sys::{PamConversation, PamHandle, PamMessage, PamResponse};
use zeroize::Zeroize;

use super::protocol::FailReason;

// Linux-PAM constants (security/_pam_types.h), spelled out because
// pam-sys 0.5 exposes them only as enums of mixed types.
const PAM_SUCCESS: c_int = 0;
const PAM_PERM_DENIED: c_int = 6;
const PAM_AUTH_ERR: c_int = 7;
const PAM_CRED_INSUFFICIENT: c_int = 8;
const PAM_USER_UNKNOWN: c_int = 10;
const PAM_MAXTRIES: c_int = 11;
const PAM_NEW_AUTHTOK_REQD: c_int = 12;
const PAM_ACCT_EXPIRED: c_int = 13;
const PAM_CONV_ERR: c_int = 19;
const PAM_AUTHTOK_EXPIRED: c_int = 27;
const PAM_BUF_ERR: c_int = 5;

const PAM_SILENT: c_int = 0x8000;
const PAM_DISALLOW_NULL_AUTHTOK: c_int = 0x0001;

const PAM_RHOST: c_int = 4;
const PAM_FAIL_DELAY: c_int = 10;

const PAM_PROMPT_ECHO_OFF: c_int = 1;
const PAM_PROMPT_ECHO_ON: c_int = 2;
const PAM_ERROR_MSG: c_int = 3;
const PAM_TEXT_INFO: c_int = 4;

/// The verdict of one PAM login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PamResult {
    Ok,
    /// Wrong password (also what pam_unix says for a `usermod -L` account).
    BadCredentials,
    UnknownUser,
    /// `pam_acct_mgmt` refused: access denied by policy (nologin, pam_access).
    AccountLocked,
    /// `pam_acct_mgmt`: the account has expired.
    AccountExpired,
    /// `pam_acct_mgmt`: the password has expired and must be changed.
    PasswordExpired,
    /// Anything else (service misconfigured, not root, …): a temporary
    /// failure, not the user's fault. Holds the PAM return code.
    Unavailable(i32),
}

impl PamResult {
    /// The helper's answer to the shard; `None` for success.
    pub fn fail_reason(self) -> Option<FailReason> {
        Some(match self {
            PamResult::Ok => return None,
            PamResult::BadCredentials => FailReason::BadCredentials,
            PamResult::UnknownUser => FailReason::UnknownUser,
            PamResult::AccountLocked => FailReason::Locked,
            PamResult::AccountExpired => FailReason::Disallowed("account expired".into()),
            PamResult::PasswordExpired => FailReason::Disallowed("password expired".into()),
            PamResult::Unavailable(code) => FailReason::TempFail(format!("PAM error {code}")),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PamOutcome {
    pub result: PamResult,
    /// The delay a module asked for after a failure (pam_unix: 2 s ± 25 %).
    /// We took it away from PAM; the caller applies it with a timer.
    pub requested_fail_delay: Option<Duration>,
}

impl PamOutcome {
    fn of(result: PamResult) -> Self {
        PamOutcome {
            result,
            requested_fail_delay: None,
        }
    }
}

/// What the conversation callback answers with; lives on our stack for
/// the whole PAM transaction and is reached through `appdata_ptr`.
struct ConversationData {
    user: CString,
    password: CString,
    fail_delay_usec: Cell<Option<c_uint>>,
}

impl Drop for ConversationData {
    fn drop(&mut self) {
        let password = std::mem::take(&mut self.password);
        password.into_bytes_with_nul().zeroize();
    }
}

/// Authenticates `user` with `password` against PAM service `service`
/// (`/etc/pam.d/<service>`), then runs account management. `rhost` is the
/// client IP, for modules that log or filter by it.
pub fn pam_authenticate(
    service: &str,
    user: &str,
    password: &[u8],
    rhost: Option<&str>,
) -> PamOutcome {
    let (Ok(service), Ok(c_user)) = (CString::new(service), CString::new(user)) else {
        return PamOutcome::of(PamResult::UnknownUser);
    };
    // A password with a NUL cannot be passed to C; no real password has one.
    let Ok(c_password) = CString::new(password) else {
        return PamOutcome::of(PamResult::BadCredentials);
    };
    let rhost = match rhost.map(CString::new).transpose() {
        Ok(rhost) => rhost,
        Err(_) => return PamOutcome::of(PamResult::Unavailable(PAM_BUF_ERR)),
    };
    let data = ConversationData {
        user: c_user,
        password: c_password,
        fail_delay_usec: Cell::new(None),
    };
    let conversation = PamConversation {
        conv: Some(converse),
        data_ptr: (&data as *const ConversationData)
            .cast_mut()
            .cast::<c_void>(),
    };

    let mut handle: *const PamHandle = ptr::null();
    // SAFETY: all pointers are valid NUL-terminated strings or structs that
    // outlive the handle (`data`, `conversation` live until the end of this
    // function, after `pam_end`). PAM copies the conversation struct.
    let started = unsafe {
        pam_sys::raw::pam_start(
            service.as_ptr(),
            data.user.as_ptr(),
            &conversation,
            &mut handle,
        )
    };
    if started != PAM_SUCCESS || handle.is_null() {
        return PamOutcome::of(PamResult::Unavailable(started));
    }
    let handle = handle.cast_mut();

    let result = run_transaction(handle, rhost.as_deref());

    // SAFETY: `handle` came from a successful pam_start and is ended once.
    unsafe { pam_sys::raw::pam_end(handle, last_status(result)) };

    PamOutcome {
        result,
        requested_fail_delay: data
            .fail_delay_usec
            .get()
            .map(|usec| Duration::from_micros(u64::from(usec))),
    }
}

fn last_status(result: PamResult) -> c_int {
    match result {
        PamResult::Ok => PAM_SUCCESS,
        PamResult::Unavailable(code) => code,
        _ => PAM_AUTH_ERR,
    }
}

fn run_transaction(handle: *mut PamHandle, rhost: Option<&CStr>) -> PamResult {
    // SAFETY (all calls below): `handle` is a live PAM handle from
    // pam_start; item values are valid for the calls (PAM copies strings;
    // the delay function is a static `extern "C" fn`).
    unsafe {
        if let Some(rhost) = rhost {
            let rc = pam_sys::raw::pam_set_item(handle, PAM_RHOST, rhost.as_ptr().cast());
            if rc != PAM_SUCCESS {
                return PamResult::Unavailable(rc);
            }
        }
        let delay_fn: extern "C" fn(c_int, c_uint, *mut c_void) = record_fail_delay;
        let rc = pam_sys::raw::pam_set_item(handle, PAM_FAIL_DELAY, delay_fn as *const c_void);
        if rc != PAM_SUCCESS {
            return PamResult::Unavailable(rc);
        }

        let rc = pam_sys::raw::pam_authenticate(handle, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
        match rc {
            PAM_SUCCESS => {}
            PAM_AUTH_ERR | PAM_MAXTRIES | PAM_CRED_INSUFFICIENT => {
                return PamResult::BadCredentials;
            }
            PAM_USER_UNKNOWN => return PamResult::UnknownUser,
            PAM_ACCT_EXPIRED => return PamResult::AccountExpired,
            PAM_PERM_DENIED => return PamResult::AccountLocked,
            other => return PamResult::Unavailable(other),
        }

        match pam_sys::raw::pam_acct_mgmt(handle, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK) {
            PAM_SUCCESS => PamResult::Ok,
            PAM_ACCT_EXPIRED => PamResult::AccountExpired,
            PAM_NEW_AUTHTOK_REQD | PAM_AUTHTOK_EXPIRED => PamResult::PasswordExpired,
            PAM_PERM_DENIED | PAM_AUTH_ERR => PamResult::AccountLocked,
            PAM_USER_UNKNOWN => PamResult::UnknownUser,
            other => PamResult::Unavailable(other),
        }
    }
}

/// PAM_FAIL_DELAY callback: Linux-PAM calls it with the conversation's
/// appdata pointer instead of sleeping itself.
extern "C" fn record_fail_delay(_status: c_int, usec: c_uint, appdata: *mut c_void) {
    if appdata.is_null() {
        return;
    }
    // SAFETY: appdata is the `ConversationData` pointer we registered; it
    // outlives the PAM transaction that calls us.
    let data = unsafe { &*(appdata.cast::<ConversationData>()) };
    data.fail_delay_usec.set(Some(usec));
}

/// The conversation: answer password prompts with the password and echoed
/// prompts with the user name; informational messages get no text.
extern "C" fn converse(
    num_msg: c_int,
    msg: *mut *mut PamMessage,
    resp: *mut *mut PamResponse,
    appdata: *mut c_void,
) -> c_int {
    let Ok(count) = usize::try_from(num_msg) else {
        return PAM_CONV_ERR;
    };
    if count == 0 || msg.is_null() || resp.is_null() || appdata.is_null() {
        return PAM_CONV_ERR;
    }
    // SAFETY: appdata is our `ConversationData` (see pam_authenticate).
    let data = unsafe { &*(appdata.cast::<ConversationData>()) };
    // SAFETY: calloc of `count` zeroed PamResponse structs; PAM frees it.
    let replies =
        unsafe { libc::calloc(count, std::mem::size_of::<PamResponse>()) }.cast::<PamResponse>();
    if replies.is_null() {
        return PAM_BUF_ERR;
    }
    for i in 0..count {
        // SAFETY: Linux-PAM passes `msg` as an array of `count` pointers.
        let message = unsafe { *msg.add(i) };
        if message.is_null() {
            // SAFETY: frees what we allocated so far.
            unsafe { free_replies(replies, i) };
            return PAM_CONV_ERR;
        }
        // SAFETY: non-null message from PAM.
        let style = unsafe { (*message).msg_style };
        let answer: Option<&CStr> = match style {
            PAM_PROMPT_ECHO_OFF => Some(&data.password),
            PAM_PROMPT_ECHO_ON => Some(&data.user),
            PAM_ERROR_MSG | PAM_TEXT_INFO => None,
            _ => {
                // SAFETY: as above.
                unsafe { free_replies(replies, i) };
                return PAM_CONV_ERR;
            }
        };
        if let Some(answer) = answer {
            // SAFETY: strdup copies a valid C string with the C allocator.
            let copy: *mut c_char = unsafe { libc::strdup(answer.as_ptr()) };
            if copy.is_null() {
                // SAFETY: as above.
                unsafe { free_replies(replies, i) };
                return PAM_BUF_ERR;
            }
            // SAFETY: `i < count`, inside the calloc'd array.
            unsafe { (*replies.add(i)).resp = copy };
        }
    }
    // SAFETY: resp is PAM's out-pointer.
    unsafe { *resp = replies };
    PAM_SUCCESS
}

/// Frees the first `filled` reply strings (wiping them: they may hold the
/// password) and the array itself.
///
/// # Safety
/// `replies` must be a calloc'd array of at least `filled` PamResponse.
unsafe fn free_replies(replies: *mut PamResponse, filled: usize) {
    for i in 0..filled {
        // SAFETY: within the array per the contract.
        let text = unsafe { (*replies.add(i)).resp };
        if !text.is_null() {
            // SAFETY: text is a strdup'd C string.
            unsafe {
                let len = libc::strlen(text);
                ptr::write_bytes(text, 0, len);
                libc::free(text.cast());
            }
        }
    }
    // SAFETY: the array came from calloc.
    unsafe { libc::free(replies.cast()) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn nul_bytes_never_reach_pam() {
        assert_eq!(
            pam_authenticate("tern-none", "u", b"a\0b", None).result,
            PamResult::BadCredentials
        );
        assert_eq!(
            pam_authenticate("tern-none", "u\0x", b"p", None).result,
            PamResult::UnknownUser
        );
        assert_eq!(
            pam_authenticate("tern-none", "u", b"p", Some("1.2.3.4\0")).result,
            PamResult::Unavailable(PAM_BUF_ERR)
        );
    }

    /// Creates a local user and a pam_unix service; removes both on drop,
    /// also when an assertion fails.
    struct Fixture {
        user: String,
        service: String,
    }

    impl Fixture {
        fn new() -> Option<Fixture> {
            let pid = std::process::id();
            let fixture = Fixture {
                user: format!("terntest{pid}"),
                service: format!("tern-test-{pid}"),
            };
            std::fs::write(
                format!("/etc/pam.d/{}", fixture.service),
                "auth required pam_unix.so\naccount required pam_unix.so\n",
            )
            .ok()?;
            run("useradd", &["-M", "-s", "/usr/sbin/nologin", &fixture.user])?;
            fixture.set_password("C0rrect-horse")?;
            Some(fixture)
        }

        fn set_password(&self, password: &str) -> Option<()> {
            use std::io::Write;
            let mut child = Command::new("chpasswd")
                .stdin(std::process::Stdio::piped())
                .spawn()
                .ok()?;
            child
                .stdin
                .take()?
                .write_all(format!("{}:{password}\n", self.user).as_bytes())
                .ok()?;
            child.wait().ok()?.success().then_some(())
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = run("userdel", &[&self.user]);
            let _ = std::fs::remove_file(format!("/etc/pam.d/{}", self.service));
        }
    }

    fn run(program: &str, args: &[&str]) -> Option<()> {
        let status = Command::new(program).args(args).status().ok()?;
        status.success().then_some(())
    }

    #[test]
    fn real_pam_unix_good_wrong_locked_expired_unknown() {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        assert!(
            root,
            "this test must run as root (it creates a user); CI runs as root"
        );
        let fx = Fixture::new()
            .expect("useradd/chpasswd (package passwd) could not create the test user");
        let auth =
            |user: &str, pw: &[u8]| pam_authenticate(&fx.service, user, pw, Some("192.0.2.7"));

        assert_eq!(auth(&fx.user, b"C0rrect-horse").result, PamResult::Ok);

        let started = std::time::Instant::now();
        let wrong = auth(&fx.user, b"wrong");
        assert_eq!(wrong.result, PamResult::BadCredentials);
        // The fail delay came to us instead of being slept inside PAM.
        assert!(
            wrong
                .requested_fail_delay
                .is_some_and(|d| d >= Duration::from_millis(500))
        );
        assert!(started.elapsed() < Duration::from_millis(1500));

        let unknown = auth("tern-no-such-user-x", b"whatever");
        assert_eq!(unknown.result, PamResult::UnknownUser);
        // pam_unix also asks for a delay here; the caller must apply the
        // same delay as for a wrong password so timing reveals nothing.
        assert!(unknown.requested_fail_delay.is_some());

        run("usermod", &["-L", &fx.user]).expect("usermod -L");
        // pam_unix reports a locked (`!`-prefixed) hash as a mismatch.
        assert_eq!(
            auth(&fx.user, b"C0rrect-horse").result,
            PamResult::BadCredentials
        );
        run("usermod", &["-U", &fx.user]).expect("usermod -U");
        assert_eq!(auth(&fx.user, b"C0rrect-horse").result, PamResult::Ok);

        run("chage", &["-E", "1", &fx.user]).expect("chage -E");
        assert_eq!(
            auth(&fx.user, b"C0rrect-horse").result,
            PamResult::AccountExpired
        );
    }

    #[test]
    fn results_map_to_protocol_reasons() {
        assert_eq!(PamResult::Ok.fail_reason(), None);
        assert_eq!(
            PamResult::BadCredentials.fail_reason(),
            Some(FailReason::BadCredentials)
        );
        assert_eq!(
            PamResult::AccountLocked.fail_reason(),
            Some(FailReason::Locked)
        );
        assert!(matches!(
            PamResult::Unavailable(9).fail_reason(),
            Some(FailReason::TempFail(t)) if t.contains('9')
        ));
    }

    #[test]
    fn missing_service_is_not_a_success() {
        let out = pam_authenticate("tern-service-that-does-not-exist", "root", b"x", None);
        assert_ne!(out.result, PamResult::Ok);
    }
}
