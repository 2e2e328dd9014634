//! FFI: the kernel's name and release from uname(2), for the ID fields `os`
//! and `os-version`. uname is a plain syscall (no I/O), so it is safe on a
//! shard thread; the answer is cached for the life of the process.

use std::ffi::CStr;
use std::sync::OnceLock;

/// `(sysname, release)`, e.g. `("Linux", "6.1.0")`; `None` if uname failed.
pub fn kernel() -> Option<&'static (String, String)> {
    static KERNEL: OnceLock<Option<(String, String)>> = OnceLock::new();
    KERNEL.get_or_init(read_uname).as_ref()
}

fn read_uname() -> Option<(String, String)> {
    // SAFETY: utsname is plain old data, so all-zero bytes are a valid value.
    let mut buf: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `buf` is a valid, writable utsname for the duration of the call.
    if unsafe { libc::uname(&mut buf) } != 0 {
        return None;
    }
    // SAFETY: on success uname NUL-terminates every field inside its array.
    let field = |f: &[libc::c_char]| {
        unsafe { CStr::from_ptr(f.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    Some((field(&buf.sysname), field(&buf.release)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn kernel_name_and_release() {
        let (name, release) = super::kernel().expect("uname works");
        assert!(!name.is_empty() && !release.is_empty());
        assert!(!name.contains('\0'));
    }
}
