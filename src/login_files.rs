//! A [`LoginStore`] in a folder, one JSON file per login, shared by the processes of one
//! machine through file locks.

use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::error::Error;
use crate::login_store::{check_name, check_stored_under, LoginKey, LoginStore, RefreshLock, UserLogin};
use crate::token_cache::BoxFuture;

/// Logins in a folder: `<dir>/<app_id>/<open_id>.json`, for the processes of one machine
/// (a command-line tool, a service and its workers).
///
/// - Folders are created readable by their owner only (mode 0700) and files likewise
///   (0600), on first write. The files hold the tokens: keep the folder out of backups and
///   shared volumes you would not trust with them.
/// - Each write is atomic: a temporary file in the same folder, flushed to disk, renamed
///   over the login's file. A reader sees the old login or the new one, never half of one.
/// - [`compare_and_swap`](LoginStore::compare_and_swap) holds an exclusive lock on
///   `<open_id>.lock` while it reads the revision and writes, so that it is atomic across
///   the processes of the machine.
/// - [`lock_refresh`](LoginStore::lock_refresh) takes a lock on `<open_id>.refresh.lock`
///   without waiting, and keeps it until [`unlock_refresh`](LoginStore::unlock_refresh)
///   or until the store is dropped. The lease is not used: the operating system releases
///   the lock of a process that dies, so a dead refresher never holds it.
///
/// The locks are advisory locks of the operating system (`flock` on Unix): they work on a
/// local disk, not reliably on every network file system. For replicas on several machines,
/// use `RedisLoginStore` (feature `redis`).
///
/// ```no_run
/// use feishu_helpdesk::FileLoginStore;
///
/// let dir = FileLoginStore::default_dir().expect("no home folder");
/// let store = FileLoginStore::new(dir);
/// ```
pub struct FileLoginStore {
    dir: PathBuf,
    /// The refresh locks this store holds, open (closing a file releases its lock).
    refresh_locks: Mutex<HashMap<LoginKey, File>>,
}

impl fmt::Debug for FileLoginStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileLoginStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl FileLoginStore {
    /// A store in `dir`. Nothing is created until the first write.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            refresh_locks: Mutex::new(HashMap::new()),
        }
    }

    /// The folder the logins are kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The usual folder for logins: `logins` in the configuration folder, which is
    /// `$FEISHU_HELPDESK_CONFIG_DIR` if set and not empty, else
    /// `$XDG_CONFIG_HOME/feishu-helpdesk`, else `$HOME/.config/feishu-helpdesk`. `None` when
    /// none of them is set.
    pub fn default_dir() -> Option<PathBuf> {
        default_dir_from(|name| std::env::var_os(name))
    }

    fn refresh_locks(&self) -> std::sync::MutexGuard<'_, HashMap<LoginKey, File>> {
        // Every change is one insert or remove: a poisoned map is still consistent.
        self.refresh_locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// [`FileLoginStore::default_dir`] with the environment read through `var`.
fn default_dir_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let set = |name: &str| var(name).filter(|value| !value.is_empty());
    let config = set("FEISHU_HELPDESK_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| set("XDG_CONFIG_HOME").map(|dir| PathBuf::from(dir).join("feishu-helpdesk")))
        .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".config").join("feishu-helpdesk")))?;
    Some(config.join("logins"))
}

/// The paths of one login's files.
struct LoginFiles {
    folder: PathBuf,
    open_id: String,
}

impl LoginFiles {
    /// The files of `key` under `dir`. The key is checked again: its fields are public, and
    /// they become path components.
    fn of(dir: &Path, key: &LoginKey) -> Result<Self, Error> {
        check_name("app_id", &key.app_id)?;
        check_name("open_id", &key.open_id)?;
        Ok(Self {
            folder: dir.join(&key.app_id),
            open_id: key.open_id.clone(),
        })
    }

    fn login(&self) -> PathBuf {
        self.folder.join(format!("{}.json", self.open_id))
    }

    fn lock(&self) -> PathBuf {
        self.folder.join(format!("{}.lock", self.open_id))
    }

    fn refresh_lock(&self) -> PathBuf {
        self.folder.join(format!("{}.refresh.lock", self.open_id))
    }
}

/// Runs blocking file work off the async runtime's threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| Error::store("the file work did not finish", Some(err)))?
}

fn io_error(what: &str, path: &Path, err: io::Error) -> Error {
    Error::store(format!("could not {what} {}", path.display()), Some(err))
}

/// Creates `folder` and its missing parents, readable by their owner only.
fn create_folder(folder: &Path) -> Result<(), Error> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(folder)
        .map_err(|err| io_error("create the folder", folder, err))
}

/// Options that create a file readable by its owner only.
fn private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Opens (creating it if needed) a lock file of `files`' folder.
fn open_lock_file(folder: &Path, path: &Path) -> Result<File, Error> {
    create_folder(folder)?;
    private_file_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|err| io_error("open the lock file", path, err))
}

/// The login in the file at `path`, checked to be `key`'s; `None` if there is no file.
fn read_login(path: &Path, key: &LoginKey) -> Result<Option<UserLogin>, Error> {
    let text = match fs::read(path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io_error("read the login file", path, err)),
    };
    // serde's message can quote the content (a token): only where it failed is kept.
    let login: UserLogin = serde_json::from_slice(&text).map_err(|err| {
        Error::store(
            format!(
                "the login file {} is not a valid login (line {}, column {})",
                path.display(),
                err.line(),
                err.column()
            ),
            None::<io::Error>,
        )
    })?;
    if login.app_id != key.app_id || login.open_id != key.open_id {
        return Err(Error::store(
            format!("the login file {} holds another person's login", path.display()),
            None::<io::Error>,
        ));
    }
    Ok(Some(login))
}

/// Writes `login` to `path` atomically: a new private file beside it, flushed, renamed over
/// it. Called with the login's lock held.
fn write_login(folder: &Path, path: &Path, login: &UserLogin) -> Result<(), Error> {
    let json = serde_json::to_vec(login)
        .map_err(|_| Error::store("could not serialize the login", None::<io::Error>))?;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    // Only the lock's holder writes, so one name per login is enough, and a file of that
    // name is what a writer that died left: removed, so that leftovers never pile up.
    let temporary = folder.join(format!(".{name}.tmp"));
    match fs::remove_file(&temporary) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(io_error("remove", &temporary, err)),
    }
    let written = (|| {
        let mut file = private_file_options()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(&json)?;
        file.sync_all()
    })();
    if let Err(err) = written {
        let _ = fs::remove_file(&temporary);
        return Err(io_error("write", &temporary, err));
    }
    if let Err(err) = fs::rename(&temporary, path) {
        let _ = fs::remove_file(&temporary);
        return Err(io_error("replace", path, err));
    }
    sync_folder(folder);
    Ok(())
}

/// Flushes a folder's entries (a rename or removal) to disk, where the system allows it.
fn sync_folder(folder: &Path) {
    // The rename is done either way; without the flush, a crash of the machine could undo
    // it. Windows cannot open a folder as a file: nothing to do there.
    #[cfg(unix)]
    if let Ok(folder) = File::open(folder) {
        let _ = folder.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}

/// The compare-and-swap, under the login's lock file.
fn swap(
    files: &LoginFiles,
    key: &LoginKey,
    expected: Option<u64>,
    login: Option<&UserLogin>,
) -> Result<bool, Error> {
    let lock_path = files.lock();
    let lock = open_lock_file(&files.folder, &lock_path)?;
    lock.lock().map_err(|err| io_error("lock", &lock_path, err))?;
    let path = files.login();
    let current = read_login(&path, key)?.map(|stored| stored.revision);
    if current != expected {
        return Ok(false);
    }
    match login {
        Some(login) => write_login(&files.folder, &path, login)?,
        None => match fs::remove_file(&path) {
            Ok(()) => sync_folder(&files.folder),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(io_error("remove", &path, err)),
        },
    }
    // Closing the file (`lock` dropped) releases the lock.
    Ok(true)
}

/// Every login in `folder` (`*.json`, not the temporary and lock files).
fn read_all(folder: &Path, app_id: &str) -> Result<Vec<UserLogin>, Error> {
    let entries = match fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(io_error("list", folder, err)),
    };
    let mut logins = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| io_error("list", folder, err))?;
        let name = entry.file_name();
        let Some(open_id) = name.to_str().and_then(|name| name.strip_suffix(".json")) else {
            continue;
        };
        let Ok(key) = LoginKey::new(app_id, open_id) else {
            continue;
        };
        // A login removed since the folder was listed is skipped.
        if let Some(login) = read_login(&entry.path(), &key)? {
            logins.push(login);
        }
    }
    Ok(logins)
}

impl LoginStore for FileLoginStore {
    fn load<'a>(&'a self, key: &'a LoginKey) -> BoxFuture<'a, Result<Option<UserLogin>, Error>> {
        Box::pin(async move {
            let path = LoginFiles::of(&self.dir, key)?.login();
            let key = key.clone();
            // A write is a rename: reading needs no lock.
            blocking(move || read_login(&path, &key)).await
        })
    }

    fn compare_and_swap<'a>(
        &'a self,
        key: &'a LoginKey,
        expected: Option<u64>,
        login: Option<&'a UserLogin>,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let files = LoginFiles::of(&self.dir, key)?;
            check_stored_under(key, login)?;
            let (key, login) = (key.clone(), login.cloned());
            blocking(move || swap(&files, &key, expected, login.as_ref())).await
        })
    }

    fn list<'a>(&'a self, app_id: &'a str) -> BoxFuture<'a, Result<Vec<UserLogin>, Error>> {
        Box::pin(async move {
            check_name("app_id", app_id)?;
            let (folder, app_id) = (self.dir.join(app_id), app_id.to_owned());
            blocking(move || read_all(&folder, &app_id)).await
        })
    }

    /// Takes `<open_id>.refresh.lock` without waiting. `lease` is not used: the operating
    /// system releases the lock when the process ends, however it ends, and dropping the
    /// store releases it too.
    fn lock_refresh<'a>(
        &'a self,
        key: &'a LoginKey,
        lease: Duration,
    ) -> BoxFuture<'a, Result<RefreshLock, Error>> {
        let _ = lease;
        Box::pin(async move {
            let files = LoginFiles::of(&self.dir, key)?;
            let taken = blocking(move || {
                let path = files.refresh_lock();
                let file = open_lock_file(&files.folder, &path)?;
                match file.try_lock() {
                    Ok(()) => Ok(Some(file)),
                    Err(fs::TryLockError::WouldBlock) => Ok(None),
                    Err(fs::TryLockError::Error(err)) => Err(io_error("lock", &path, err)),
                }
            })
            .await?;
            Ok(match taken {
                Some(file) => {
                    self.refresh_locks().insert(key.clone(), file);
                    RefreshLock::Acquired
                }
                None => RefreshLock::Busy,
            })
        })
    }

    fn unlock_refresh<'a>(&'a self, key: &'a LoginKey) -> BoxFuture<'a, ()> {
        // Closing the file releases the lock (and is quick: no blocking work to move away).
        drop(self.refresh_locks().remove(key));
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::login_store::tests::login;
    use crate::secret::Secret;

    /// A new empty folder of the test's own, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            let dir = std::env::temp_dir().join(format!(
                "feishu-helpdesk-logins-{}-{:016x}",
                std::process::id(),
                fastrand::u64(..)
            ));
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn names_in(folder: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn compare_and_swap_writes_only_over_the_revision_read() {
        let dir = TempDir::new();
        let store = FileLoginStore::new(&dir.0);
        assert!(!dir.0.exists(), "nothing is created before the first write");
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        let first = login(&key);
        assert_eq!(store.load(&key).await.unwrap(), None);
        assert!(store.compare_and_swap(&key, None, Some(&first)).await.unwrap());
        // A second writer that also read "nothing" loses.
        assert!(!store.compare_and_swap(&key, None, Some(&first)).await.unwrap());
        let refreshed = first.refreshed(Secret::new("u-2"), Duration::from_secs(7200), None, None, None);
        assert!(store
            .compare_and_swap(&key, Some(1), Some(&refreshed))
            .await
            .unwrap());
        // A writer that read revision 1 cannot overwrite revision 2.
        assert!(!store.compare_and_swap(&key, Some(1), Some(&first)).await.unwrap());
        assert_eq!(store.load(&key).await.unwrap(), Some(refreshed.clone()));
        // Another store on the folder (another process) reads the same.
        assert_eq!(
            FileLoginStore::new(&dir.0).load(&key).await.unwrap(),
            Some(refreshed)
        );
        assert!(!store.compare_and_swap(&key, None, None).await.unwrap());
        assert!(store.compare_and_swap(&key, Some(2), None).await.unwrap());
        assert_eq!(store.load(&key).await.unwrap(), None);
        assert!(store.list("cli_a").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_login_under_another_key_or_a_key_that_leaves_the_folder_is_refused() {
        let dir = TempDir::new();
        let store = FileLoginStore::new(&dir.0);
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        let other = LoginKey::new("cli_a", "ou_2").unwrap();
        let err = store
            .compare_and_swap(&other, None, Some(&login(&key)))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { field: "login", .. }),
            "{err:?}"
        );
        // The key's fields are public: a key built without `LoginKey::new` is checked too.
        let escaping = LoginKey {
            app_id: "..".into(),
            open_id: "ou_1".into(),
        };
        assert!(store.load(&escaping).await.is_err());
        assert!(store.list("../cli_a").await.is_err());
        assert!(!dir.0.exists());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn folders_and_files_are_private_and_writes_leave_no_temporary_file() {
        use std::os::unix::fs::PermissionsExt;

        let dir = TempDir::new();
        let store = FileLoginStore::new(dir.0.join("logins"));
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        let first = login(&key);
        assert!(store.compare_and_swap(&key, None, Some(&first)).await.unwrap());
        let folder = dir.0.join("logins").join("cli_a");
        // What a writer that died before its rename leaves: the next write clears it.
        fs::write(folder.join(".ou_1.json.tmp"), "{").unwrap();
        let second = first.marked_for_authorization();
        assert!(store
            .compare_and_swap(&key, Some(1), Some(&second))
            .await
            .unwrap());
        assert_eq!(store.load(&key).await.unwrap(), Some(second));

        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.0), 0o700);
        assert_eq!(mode(&dir.0.join("logins")), 0o700);
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(names_in(&folder), ["ou_1.json", "ou_1.lock"]);
        assert_eq!(mode(&folder.join("ou_1.json")), 0o600);
        assert_eq!(mode(&folder.join("ou_1.lock")), 0o600);
        store.lock_refresh(&key, Duration::from_secs(1)).await.unwrap();
        assert_eq!(mode(&folder.join("ou_1.refresh.lock")), 0o600);
        let text = fs::read_to_string(folder.join("ou_1.json")).unwrap();
        assert!(text.contains("u-secret-access"), "the file is the store");
    }

    #[tokio::test]
    async fn a_corrupt_file_is_a_store_error_naming_the_file_not_its_content() {
        let dir = TempDir::new();
        let store = FileLoginStore::new(&dir.0);
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        assert!(store
            .compare_and_swap(&key, None, Some(&login(&key)))
            .await
            .unwrap());
        let path = dir.0.join("cli_a").join("ou_1.json");
        let text = fs::read_to_string(&path).unwrap();
        // A token where a number belongs: serde's own message would quote it.
        let corrupt = text.replace(r#""revision":1"#, r#""revision":"u-secret-access""#);
        assert_ne!(corrupt, text);
        fs::write(&path, corrupt).unwrap();

        for err in [
            store.load(&key).await.unwrap_err(),
            store.list("cli_a").await.unwrap_err(),
            store.compare_and_swap(&key, Some(1), None).await.unwrap_err(),
        ] {
            let Error::Store { reason, .. } = &err else {
                panic!("{err:?}")
            };
            assert!(reason.contains(&path.display().to_string()), "{reason}");
            let mut shown = format!("{err} {err:?}");
            let mut source = std::error::Error::source(&err);
            while let Some(next) = source {
                shown.push_str(&next.to_string());
                source = next.source();
            }
            assert!(!shown.contains("secret"), "{shown}");
        }

        // Another person's login under this name is refused too.
        let other = LoginKey::new("cli_a", "ou_2").unwrap();
        fs::write(&path, serde_json::to_vec(&login(&other)).unwrap()).unwrap();
        assert!(matches!(store.load(&key).await, Err(Error::Store { .. })));
    }

    #[tokio::test]
    async fn list_reads_every_login_of_the_app_and_nothing_else() {
        let dir = TempDir::new();
        let store = FileLoginStore::new(&dir.0);
        assert!(store.list("cli_a").await.unwrap().is_empty(), "no folder yet");
        for (app_id, open_id) in [("cli_a", "ou_1"), ("cli_a", "ou_2"), ("cli_b", "ou_1")] {
            let key = LoginKey::new(app_id, open_id).unwrap();
            assert!(store
                .compare_and_swap(&key, None, Some(&login(&key)))
                .await
                .unwrap());
        }
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        assert_eq!(
            store.lock_refresh(&key, Duration::from_secs(1)).await.unwrap(),
            RefreshLock::Acquired
        );
        // What a write that died halfway leaves.
        fs::write(dir.0.join("cli_a").join(".ou_3.json.tmp"), "{").unwrap();

        let mut listed: Vec<String> = store
            .list("cli_a")
            .await
            .unwrap()
            .into_iter()
            .map(|login| login.open_id)
            .collect();
        listed.sort();
        assert_eq!(listed, ["ou_1", "ou_2"]);
        assert_eq!(store.list("cli_b").await.unwrap().len(), 1);
        assert!(store.list("cli_c").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_refresh_lock_is_held_by_one_store_until_unlocked_or_dropped() {
        let dir = TempDir::new();
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        let lease = Duration::from_secs(30);
        let first = FileLoginStore::new(&dir.0);
        let second = FileLoginStore::new(&dir.0);

        assert_eq!(
            first.lock_refresh(&key, lease).await.unwrap(),
            RefreshLock::Acquired
        );
        assert_eq!(second.lock_refresh(&key, lease).await.unwrap(), RefreshLock::Busy);
        assert_eq!(first.lock_refresh(&key, lease).await.unwrap(), RefreshLock::Busy);
        // Another login's lock is its own.
        let other = LoginKey::new("cli_a", "ou_2").unwrap();
        assert_eq!(
            second.lock_refresh(&other, lease).await.unwrap(),
            RefreshLock::Acquired
        );
        // A non-holder's unlock changes nothing.
        second.unlock_refresh(&key).await;
        assert_eq!(second.lock_refresh(&key, lease).await.unwrap(), RefreshLock::Busy);

        first.unlock_refresh(&key).await;
        assert_eq!(
            second.lock_refresh(&key, lease).await.unwrap(),
            RefreshLock::Acquired
        );
        assert_eq!(first.lock_refresh(&key, lease).await.unwrap(), RefreshLock::Busy);

        drop(second);
        assert_eq!(
            first.lock_refresh(&key, lease).await.unwrap(),
            RefreshLock::Acquired
        );
        assert_eq!(
            first.lock_refresh(&other, lease).await.unwrap(),
            RefreshLock::Acquired
        );
    }

    #[test]
    fn the_default_folder_follows_the_environment() {
        let dir = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> =
                vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            default_dir_from(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.into()))
        };
        let all = [
            ("FEISHU_HELPDESK_CONFIG_DIR", "/etc/fh"),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/home/a"),
        ];
        assert_eq!(dir(&all), Some(PathBuf::from("/etc/fh/logins")));
        assert_eq!(dir(&[("FEISHU_HELPDESK_CONFIG_DIR", "")]), None);
        assert_eq!(dir(&all[1..]), Some(PathBuf::from("/x/feishu-helpdesk/logins")));
        assert_eq!(
            dir(&[("XDG_CONFIG_HOME", ""), ("HOME", "/home/a")]),
            Some(PathBuf::from("/home/a/.config/feishu-helpdesk/logins"))
        );
        assert_eq!(dir(&[]), None);
    }

    #[test]
    fn debug_shows_the_folder_only() {
        let store = FileLoginStore::new("/var/lib/app/logins");
        assert_eq!(
            format!("{store:?}"),
            r#"FileLoginStore { dir: "/var/lib/app/logins", .. }"#
        );
    }

    #[tokio::test]
    async fn debug_never_shows_a_token_of_a_store_in_use() {
        let dir = TempDir::new();
        let store = FileLoginStore::new(&dir.0);
        let key = LoginKey::new("cli_a", "ou_1").unwrap();
        assert!(store
            .compare_and_swap(&key, None, Some(&login(&key)))
            .await
            .unwrap());
        store.lock_refresh(&key, Duration::from_secs(1)).await.unwrap();
        let shown = format!("{store:?} {store:#?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
