//! The embedded default: `tern serve` with no config anywhere creates a
//! small, self-contained setup in `./tern-data` (a self-signed certificate,
//! a passwd-file with a demo user, a config file in Dovecot syntax) and
//! serves it on unprivileged loopback ports. Everything it creates is
//! ordinary config an operator can read and edit.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub const DEMO_USER: &str = "demo";

/// Ports of the embedded default (unprivileged: 10000 + the usual port).
pub const PORTS: [(&str, u16); 5] = [
    ("imap", 10143),
    ("imaps", 10993),
    ("pop3", 10110),
    ("pop3s", 10995),
    ("lmtp", 10024),
];

/// Where the embedded default lives: `$TERN_DATA_DIR` or `./tern-data`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("TERN_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("tern-data"))
}

fn random_password() -> String {
    // 12 characters from the kernel's CSPRNG, in an alphabet without
    // look-alikes so it can be typed from the terminal.
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 12];
    // blocking-ok: CLI set-up before any shard exists
    if let Ok(mut f) = fs::File::open("/dev/urandom") {
        let _ = io::Read::read_exact(&mut f, &mut bytes);
    }
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn write_private(path: &Path, text: &str) -> io::Result<()> {
    fs::write(path, text)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

/// Creates whatever is missing of the embedded setup and returns the path of
/// its config file and the demo password.
pub fn ensure(dir: &Path) -> io::Result<(PathBuf, String)> {
    fs::create_dir_all(dir.join("mail"))?;
    fs::create_dir_all(dir.join("run"))?;
    let abs = fs::canonicalize(dir)?;
    let cert = abs.join("tern-cert.pem");
    let key = abs.join("tern-key.pem");
    if !cert.exists() || !key.exists() {
        let ss = crate::net::tls::self_signed(&["localhost", "127.0.0.1", "::1"])
            .map_err(|e| io::Error::other(e.to_string()))?;
        write_private(&key, &ss.key_pem)?;
        fs::write(&cert, &ss.cert_pem)?;
    }
    let pw_file = abs.join("demo-password");
    let password = match fs::read_to_string(&pw_file) {
        Ok(p) if !p.trim().is_empty() => p.trim().to_string(),
        _ => {
            let p = random_password();
            write_private(&pw_file, &format!("{p}\n"))?;
            p
        }
    };
    let users = abs.join("users");
    if !users.exists() {
        let hash = crate::auth::scheme::generate(
            crate::auth::scheme::Scheme::Sha512Crypt,
            password.as_bytes(),
        )
        .map_err(|e| io::Error::other(e.to_string()))?;
        write_private(
            &users,
            &format!(
                "# Dovecot passwd-file: user:password:uid:gid:gecos:home:shell:extra\n\
                 {DEMO_USER}:{hash}::::::\n"
            ),
        )?;
    }
    let conf = abs.join("tern.conf");
    if !conf.exists() {
        fs::write(&conf, config_text(&abs))?;
    }
    Ok((conf, password))
}

fn config_text(abs: &Path) -> String {
    let d = abs.display();
    let [imap, imaps, pop3, pop3s, lmtp] = PORTS.map(|(_, p)| p);
    format!(
        r#"# tern embedded default: loopback only, self-signed certificate, one demo
# user. Dovecot 2.3 configuration syntax; edit freely.
protocols = imap pop3 lmtp
listen = 127.0.0.1
base_dir = {d}/run
ssl = yes
ssl_cert = <{d}/tern-cert.pem
ssl_key = <{d}/tern-key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = sdbox:{d}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/users
}}
userdb {{
  driver = static
  args = home={d}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
"#
    )
}
