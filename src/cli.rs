pub fn run() -> i32 {
    // Touch PAM so the link step is exercised from the first commit on.
    let f: unsafe extern "C" fn(*mut pam_sys::types::PamHandle, i32) -> *const libc::c_char =
        pam_sys::raw::pam_strerror;
    std::hint::black_box(f);
    0
}
