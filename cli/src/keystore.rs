//! `civitas key`: an encrypted keystore. Each key is a JSON file holding its account id and its
//! secret seed encrypted with XChaCha20-Poly1305 under a key derived from a password with
//! Argon2id. The password comes from `CIVITAS_KEY_PASSWORD` or a prompt. Key files are
//! created with mode 0600 in a directory with mode 0700 (on Unix).
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use argon2::Argon2;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::XChaCha20Poly1305;
use civitas_primitives::crypto::Keypair;
use clap::Subcommand;
use rand_core::RngCore;
use serde::{Deserialize, Serialize};

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Create a key and store it encrypted.
    New {
        /// Name of the key.
        name: String,
    },
    /// List stored keys.
    List,
    /// Store a dev account's key (anyone can derive it: dev chains only), e.g. to import it
    /// into the browser wallet; the file goes to `--out`, else into the keystore.
    Dev {
        /// The dev account (alice, bob, bank-a, …).
        name: String,
        /// Write the key file here instead of the keystore.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Show a key's account id.
    Show {
        /// Name of the key.
        name: String,
    },
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    name: String,
    account: String,
    kdf: String,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// The keystore directory: `CIVITAS_KEYSTORE`, else `~/.civitas/keys`.
pub fn keystore_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CIVITAS_KEYSTORE") {
        return PathBuf::from(d);
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(".civitas")
        .join("keys")
}

fn password(prompt: &str) -> Result<String> {
    if let Ok(p) = std::env::var("CIVITAS_KEY_PASSWORD") {
        return Ok(p);
    }
    rpassword::prompt_password(prompt).context("reading the password (or set CIVITAS_KEY_PASSWORD)")
}

fn cipher(password: &str, salt: &[u8]) -> Result<XChaCha20Poly1305> {
    let mut key = [0u8; 32];
    Argon2::default()
        .hash_password_into(password.as_bytes(), salt, &mut key)
        .map_err(|e| anyhow::anyhow!("deriving the key: {e}"))?;
    Ok(XChaCha20Poly1305::new(&key.into()))
}

/// The key file of `key` named `name`, encrypted under `pw` with a fresh salt and nonce.
fn key_file(name: &str, key: &Keypair, pw: &str) -> Result<KeyFile> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ct = cipher(pw, &salt)?
        .encrypt(&nonce, key.seed().as_slice())
        .map_err(|_| anyhow::anyhow!("encryption failed"))?;
    Ok(KeyFile {
        name: name.into(),
        account: key.account().to_hex(),
        kdf: "argon2id".into(),
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ct),
    })
}

fn path_of(dir: &Path, name: &str) -> Result<PathBuf> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("key names use letters, digits, - and _");
    }
    Ok(dir.join(format!("{name}.json")))
}

/// Creates the keystore directory readable by its owner only (mode 0700 on Unix), so other
/// users cannot even list the key names and accounts.
fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("creating the keystore {}", dir.display()))
}

/// Writes a new key file, readable by its owner only (mode 0600 on Unix) from its first byte,
/// and never over an existing file. It is written whole to `.NAME.json.tmp`, synced, then
/// linked into place and the directory synced: a crash leaves no key file or the whole one,
/// never a truncated file that blocks the name (the temporary file is not a key: `key list`
/// reads `*.json` only, and the next write overwrites it).
fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    civitas_crash::crash_point!("keystore.temp_created");
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    civitas_crash::crash_point!("keystore.temp_written");
    // A hard link refuses an existing target, as `create_new` does.
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked?;
    civitas_crash::crash_point!("keystore.renamed");
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Loads and decrypts a stored key, if one named `name` exists.
pub fn load(name: &str) -> Result<Option<Keypair>> {
    let path = path_of(&keystore_dir(), name)?;
    if !path.exists() {
        return Ok(None);
    }
    let file: KeyFile = serde_json::from_slice(&std::fs::read(&path)?)
        .with_context(|| format!("parsing {}", path.display()))?;
    let salt = hex::decode(&file.salt)?;
    let nonce = hex::decode(&file.nonce)?;
    let ct = hex::decode(&file.ciphertext)?;
    let pw = password(&format!("password for key `{name}`: "))?;
    let seed = cipher(&pw, &salt)?
        .decrypt(nonce.as_slice().into(), ct.as_slice())
        .map_err(|_| anyhow::anyhow!("wrong password for key `{name}`"))?;
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| anyhow::anyhow!("corrupt key file {}", path.display()))?;
    Ok(Some(Keypair::from_seed(seed)))
}

pub fn run(cmd: KeyCommand, json: bool) -> Result<()> {
    let dir = keystore_dir();
    match cmd {
        KeyCommand::New { name } => {
            let path = path_of(&dir, &name)?;
            if path.exists() {
                bail!("a key named `{name}` already exists in {}", dir.display());
            }
            create_private_dir(&dir)?;
            let mut seed = [0u8; 32];
            OsRng.fill_bytes(&mut seed);
            let key = Keypair::from_seed(seed);
            let pw = password(&format!("new password for `{name}`: "))?;
            let file = key_file(&name, &key, &pw)?;
            write_private_file(&path, &serde_json::to_vec_pretty(&file)?)
                .with_context(|| format!("writing {}", path.display()))?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "name": name, "account": key.account().to_hex(), "file": path })
                );
            } else {
                println!(
                    "key `{name}`: {}\nstored encrypted in {}",
                    key.account(),
                    path.display()
                );
            }
        }
        KeyCommand::Dev { name, out } => {
            if !civitas_primitives::dev::is_dev_account(&name) {
                bail!("`{name}` is not a dev account");
            }
            let key = civitas_primitives::dev::dev_key(&name);
            let path = match out {
                Some(p) => p,
                None => {
                    create_private_dir(&dir)?;
                    path_of(&dir, &name)?
                }
            };
            if path.exists() {
                bail!("{} already exists", path.display());
            }
            let pw = password(&format!("new password for `{name}`: "))?;
            let file = key_file(&name, &key, &pw)?;
            write_private_file(&path, &serde_json::to_vec_pretty(&file)?)
                .with_context(|| format!("writing {}", path.display()))?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "name": name, "account": key.account().to_hex(), "file": path })
                );
            } else {
                println!(
                    "dev key `{name}`: {}\nwritten encrypted to {}",
                    key.account(),
                    path.display()
                );
            }
        }
        KeyCommand::List => {
            let mut keys = Vec::new();
            if let Ok(entries) = std::fs::read_dir(&dir) {
                // Key files only: not a temporary file a crashed write left.
                for e in entries
                    .flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                {
                    if let Ok(f) = serde_json::from_slice::<KeyFile>(
                        &std::fs::read(e.path()).unwrap_or_default(),
                    ) {
                        keys.push((f.name, f.account));
                    }
                }
            }
            keys.sort();
            if json {
                let list: Vec<_> = keys
                    .iter()
                    .map(|(n, a)| serde_json::json!({ "name": n, "account": a }))
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else if keys.is_empty() {
                println!(
                    "no keys in {} (create one with `civitas key new NAME`)",
                    dir.display()
                );
            } else {
                for (n, a) in keys {
                    println!("{n:<20} {a}");
                }
            }
        }
        KeyCommand::Show { name } => {
            let path = path_of(&dir, &name)?;
            let f: KeyFile = serde_json::from_slice(
                &std::fs::read(&path)
                    .with_context(|| format!("no key `{name}` in {}", dir.display()))?,
            )?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "name": f.name, "account": f.account })
                );
            } else {
                println!("{}", f.account);
            }
        }
    }
    Ok(())
}
