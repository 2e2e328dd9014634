#!/usr/bin/env bash
# Runs tern's whole test suite on a fresh Debian machine that has the Rust
# toolchain: installs the system packages the interop tests need (when run as
# root), checks formatting and lints, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests use. Each entry: command-or-path:debian-package.
# Dovecot is there for interoperability tests (tern reads what Dovecot wrote
# and the other way round); it is installed but never started.
NEEDED=(
  "python3:python3"
  "curl:curl"
  "/usr/lib/dovecot/dovecot-lda:dovecot-core"
  "/usr/lib/dovecot/imap:dovecot-imapd"
)
# POP3 client and MTA interop (tests/pop3_clients.rs, tests/postfix_*.rs).
NEEDED+=("fetchmail:fetchmail" "postfix:postfix")
# IMAP client interop (tests/imap_mbsync.rs).
NEEDED+=("mbsync:isync")
# Build tools: tikv-jemalloc-sys runs make (not on a fresh Debian).
NEEDED+=("make:make")

missing=()
for pair in "${NEEDED[@]}"; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  case "$cmd" in
    /*) [ -x "$cmd" ] || missing+=("$pkg") ;;
    *) command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg") ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  # postfix is installed unconfigured ("No configuration"): the Postfix
  # test runs its own loopback-only instance from a temporary directory.
  if [ "$(id -u)" = 0 ] && command -v debconf-set-selections >/dev/null; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "postfix postfix/mailname string localhost" | debconf-set-selections
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing: ${missing[*]}"
    # Keep package scripts from starting any daemon (Dovecot, Postfix): the
    # tests start what they need on their own ports and stop it afterwards.
    had_policy=0
    [ -e /usr/sbin/policy-rc.d ] && had_policy=1
    if [ $had_policy = 0 ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
      chmod +x /usr/sbin/policy-rc.d
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    [ $had_policy = 0 ] && rm -f /usr/sbin/policy-rc.d
  else
    echo "== missing packages (install them as root): ${missing[*]}" >&2
    exit 1
  fi
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# The comparisons with the installed doveconf are #[ignore]d for machines
# without dovecot-core; here it is installed, so they run. Before the main
# run, so that its summary stays the last thing printed; a failure here
# still lets the main run go on and fails the script at the end.
status=0
echo "== doveconf comparisons (ignored by default: need dovecot-core)"
cargo test --lib -q -- --ignored --exact \
  config::tests::doveconf::matches_installed_doveconf \
  config::tests::doveconf::defaults_match_installed_doveconf || status=1

echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  # doc tests first: nextest's summary must be the last thing printed
  cargo test --workspace --doc -q
  cargo nextest run --workspace --no-fail-fast || status=1
else
  cargo test --workspace --no-fail-fast || status=1
fi
exit $status
