//! Making the cluster: finding the server binaries, the unprivileged account
//! they run under when we are root, `initdb`, and the private files (passwords)
//! kept beside the data.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, anyhow, bail};
use nix::unistd::User;
use rand::Rng;

use super::{EmbeddedOptions, SUPERUSER};

/// Finds the folder holding `initdb` and `postgres`: `explicit`, else the
/// first of `search_path` that has both, else the newest
/// `/usr/lib/postgresql/*/bin`.
pub fn find_bin_dir(explicit: Option<&Path>, search_path: &[PathBuf]) -> anyhow::Result<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = explicit {
        if has_both(dir) {
            return Ok(dir.to_owned());
        }
        bail!(missing_binaries_message(&dir.display().to_string()));
    }
    if let Some(dir) = search_path.iter().find(|dir| has_both(dir)) {
        return Ok(dir.clone());
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir).ok_or_else(|| {
        anyhow!(missing_binaries_message(
            "PATH or /usr/lib/postgresql/*/bin"
        ))
    })
}

fn missing_binaries_message(where_: &str) -> String {
    format!(
        "PostgreSQL server binaries (initdb, postgres) were not found in {where_}. \
         Install them (Debian/Ubuntu: `apt-get install postgresql`), or set DATABASE_URL \
         to use an existing PostgreSQL server."
    )
}

/// The unprivileged account PostgreSQL runs under when we are root.
pub(super) fn run_as() -> anyhow::Result<Option<User>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let user = User::from_name("postgres")
        .context("looking up the postgres user")?
        .ok_or_else(|| {
            anyhow!(
                "running as root, PostgreSQL must run as an unprivileged user, and there is \
                 no `postgres` user: install PostgreSQL (`apt-get install postgresql`) or run \
                 tenantgate as a normal user"
            )
        })?;
    Ok(Some(user))
}

/// Creates the cluster in `data` (a half-made one is made again), its
/// superuser's password from `password`.
pub(super) fn init_cluster(
    bin: &Path,
    root: &Path,
    data: &Path,
    user: Option<&User>,
    password: &str,
    options: &EmbeddedOptions,
) -> anyhow::Result<()> {
    if data.exists() {
        // A half-made cluster from an interrupted first start: make it again.
        fs::remove_dir_all(data)?;
    }
    fs::create_dir_all(data)?;
    fs::set_permissions(data, fs::Permissions::from_mode(0o700))?;
    let pwfile = root.join("initdb-password");
    write_private(&pwfile, password)?;
    if let Some(user) = user {
        chown(data, Some(user.uid.as_raw()), Some(user.gid.as_raw()))?;
        chown(&pwfile, Some(user.uid.as_raw()), Some(user.gid.as_raw()))?;
    }
    let mut cmd = Command::new(bin.join("initdb"));
    cmd.arg("-D")
        .arg(data)
        .args(["-U", SUPERUSER, "-A", "scram-sha-256", "-E", "UTF8"])
        .args(["--locale=C", "--no-instructions"])
        .arg(format!("--pwfile={}", pwfile.display()))
        .stdin(Stdio::null());
    if options.ephemeral {
        cmd.arg("--no-sync");
    }
    if let Some(user) = user {
        cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    let out = cmd.output().context("running initdb")?;
    let _ = fs::remove_file(&pwfile);
    if !out.status.success() {
        let _ = fs::remove_dir_all(data);
        let hint = match user {
            Some(user) => format!(
                " (it ran as the `{}` user, which must be able to reach {}: every parent \
                 folder needs the execute permission)",
                user.name,
                data.display()
            ),
            None => String::new(),
        };
        bail!(
            "initdb failed{hint}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Writes `contents` to `path`, readable by its owner only (mode 0600).
pub(super) fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// 32 random alphanumeric characters.
pub(super) fn random_password() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_name_what_to_install() {
        let empty = std::env::temp_dir().join(format!("tg-no-pg-{}", std::process::id()));
        fs::create_dir_all(&empty).unwrap();
        let err = find_bin_dir(Some(&empty), &[]).unwrap_err().to_string();
        assert!(err.contains("apt-get install postgresql"), "{err}");
        assert!(err.contains("DATABASE_URL"), "{err}");
    }
}
