#!/usr/bin/env bash
# Runs tern's whole test suite on a fresh Debian machine that has the Rust
# toolchain: installs the system packages the interop tests need (when run as
# root), checks formatting and lints, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the build and the tests need is listed in scripts/check-tools; here
# the missing Debian packages are installed (as root), Python modules go
# through pip, and then check-tools runs first and names whatever is still
# missing. Dovecot is there for interoperability tests (tern reads what
# Dovecot wrote and the other way round); it is installed but never started.
mapfile -t wanted < <(scripts/check-tools --missing-packages)
apt_packages=()
pip_packages=()
for p in "${wanted[@]}"; do
  case "$p" in
    pip:*) pip_packages+=("${p#pip:}") ;;
    rustup) ;; # the Rust toolchain is this script's precondition
    *) apt_packages+=("$p") ;;
  esac
done
if [ ${#apt_packages[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  # postfix is installed unconfigured ("No configuration"): the Postfix
  # test runs its own loopback-only instance from a temporary directory.
  if command -v debconf-set-selections >/dev/null; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "postfix postfix/mailname string localhost" | debconf-set-selections
  fi
  echo "== installing: ${apt_packages[*]}"
  # Keep package scripts from starting any daemon (Dovecot, Postfix): the
  # tests start what they need on their own ports and stop it afterwards.
  had_policy=0
  [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  if [ $had_policy = 0 ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null
  [ $had_policy = 0 ] && rm -f /usr/sbin/policy-rc.d
fi
if [ ${#pip_packages[@]} -gt 0 ]; then
  echo "== pip install: ${pip_packages[*]}"
  python3 -m pip install -q "${pip_packages[@]}" \
    || python3 -m pip install -q --break-system-packages "${pip_packages[@]}"
fi

echo "== scripts/check-tools"
scripts/check-tools

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
