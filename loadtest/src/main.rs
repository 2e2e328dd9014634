//! tern-loadtest: see loadtest/README.md.

fn main() {
    std::process::exit(tern_loadtest::main_with_args(std::env::args_os()));
}
