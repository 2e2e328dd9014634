//! tern-loadtest: the load generator. The scenarios arrive with the load
//! generator issue; this stub only says so.

fn main() {
    eprintln!("tern-loadtest: no scenarios yet (see the load generator issue)");
    std::process::exit(2);
}
