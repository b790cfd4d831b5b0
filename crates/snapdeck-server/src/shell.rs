//! The command interpreter: [bashkit](https://crates.io/crates/bashkit), a bash
//! interpreter that runs in-process over a virtual file system, with every command
//! reimplemented in Rust and no fork/exec. The emulator never runs the host's shell or
//! programs: a command sees only an in-memory disk built from the devbox's file rows
//! (the rows a snapshot copies), and what it changes there is written back as rows.
//!
//! One [`run`] is one shell process: it starts from the rows as they are, and its
//! changes are a diff against that start ([`FileChanges`]), so two commands at once
//! only overwrite each other's files where both touched the same path. Directories are
//! rows too (their path with a trailing `/`, empty contents), so `mkdir` survives into a
//! snapshot.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bashkit::{
    Bash, Builtin, BuiltinContext, CommandResolver, ExecResult, ExecutionLimits, FsLimits,
    InMemoryFs, SessionLimits, ShellState, VfsEntryKind,
};

/// The user's home directory: where every command starts, and where
/// `write_file_contents`/`read_file_contents` resolve relative paths ("relative to the
/// user home directory" in the spec). Defined here, the leaf, and re-exported by the
/// store.
pub const HOME: &str = "/home/user";

/// Longest a single command may run (`sleep` included): the SDKs' own wait for
/// `execute_sync` is 600 s, but an emulator should not hold a task that long.
pub const MAX_RUN: Duration = Duration::from_secs(120);

/// Largest stdout (and, separately, stderr) a command keeps; the rest is cut and the
/// execution says `*_truncated`.
pub const MAX_OUTPUT_BYTES: usize = 4 * 1024 * 1024;

/// The message for a command the interpreter does not implement, as the issue asks.
pub fn not_emulated(name: &str) -> String {
    format!("command not found: {name} (snapdeck-server emulates commands: see its README)\n")
}

/// Directories every disk has, which are not stored as rows.
const BUILT_IN_DIRS: [&str; 5] = ["/", "/tmp", "/home", HOME, "/dev"];

/// What a command starts from.
#[derive(Debug, Default)]
pub struct Setup {
    /// The disk: `(path, contents)`; a path ending in `/` is a directory.
    pub files: Vec<(String, Vec<u8>)>,
    /// A named shell's state from its previous command (working directory, variables).
    pub state: Option<ShellState>,
    /// The devbox's `environment_variables`.
    pub env: BTreeMap<String, String>,
    /// Everything sent to stdin (`attach_stdin`), given at once.
    pub stdin: Option<String>,
    /// `hostname` answers this (the devbox id).
    pub hostname: String,
}

/// What a command changed on the disk, relative to where it started.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileChanges {
    /// Created or changed: `(path, contents)` (directories with a trailing `/`).
    pub written: Vec<(String, Vec<u8>)>,
    /// Paths that existed at the start and are gone.
    pub removed: Vec<String>,
}

/// How a command ended.
#[derive(Debug)]
pub struct Outcome {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub changes: FileChanges,
    /// The shell's state afterwards, for the next command of a named shell (`None`
    /// when no shell ran).
    pub state: Option<ShellState>,
}

/// Resolves every command bashkit does not implement to one that says so with exit 127,
/// in the emulator's words.
struct NotEmulated;

impl CommandResolver for NotEmulated {
    fn resolve(&self, name: &str) -> Option<Arc<dyn Builtin>> {
        Some(Arc::new(NotEmulatedCommand(name.to_owned())))
    }
}

struct NotEmulatedCommand(String);

#[bashkit::async_trait]
impl Builtin for NotEmulatedCommand {
    async fn execute(&self, _ctx: BuiltinContext<'_>) -> bashkit::Result<ExecResult> {
        Ok(ExecResult {
            stderr: not_emulated(&self.0).into(),
            exit_code: 127,
            ..ExecResult::default()
        })
    }
}

fn limits() -> ExecutionLimits {
    ExecutionLimits::new()
        .timeout(MAX_RUN)
        .max_commands(200_000)
        .max_loop_iterations(100_000)
        .max_total_loop_iterations(1_000_000)
        .max_stdout_bytes(MAX_OUTPUT_BYTES)
        .max_stderr_bytes(MAX_OUTPUT_BYTES)
}

fn fs_limits() -> FsLimits {
    FsLimits {
        max_total_bytes: 1 << 30,
        max_file_size: 64 << 20,
        max_file_count: 100_000,
        max_dir_count: 100_000,
        ..FsLimits::default()
    }
}

/// Whether a path of the virtual disk is stored as a row.
fn is_stored(path: &str) -> bool {
    !(BUILT_IN_DIRS.contains(&path) || path.starts_with("/dev/"))
}

/// The disk as `path → contents`, directories with a trailing `/`.
fn disk_of(fs: &InMemoryFs) -> HashMap<String, Vec<u8>> {
    let mut disk = HashMap::new();
    for entry in fs.snapshot().entries() {
        let path = entry.path.to_string_lossy().into_owned();
        if !is_stored(&path) {
            continue;
        }
        match &entry.kind {
            VfsEntryKind::File { content } => {
                disk.insert(path, content.clone());
            }
            VfsEntryKind::Directory => {
                disk.insert(format!("{path}/"), Vec::new());
            }
            // Links and pipes have no row form; they live for one command.
            VfsEntryKind::Symlink { .. } | VfsEntryKind::Fifo => {}
        }
    }
    disk
}

/// Appends `chunk` while `buffer` stays within [`MAX_OUTPUT_BYTES`].
fn push_capped(buffer: &mut String, chunk: &str) {
    let room = MAX_OUTPUT_BYTES.saturating_sub(buffer.len());
    let mut end = chunk.len().min(room);
    while !chunk.is_char_boundary(end) {
        end -= 1;
    }
    buffer.push_str(&chunk[..end]);
}

/// Gets each chunk of (stdout, stderr) as a command writes it.
pub type OutputSink = Box<dyn FnMut(&str, &str) + Send + Sync>;

/// Resolves once `cancel` is set.
async fn cancelled(cancel: &AtomicBool) {
    while !cancel.load(std::sync::atomic::Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `script` as one shell process over the disk in `setup`. `cancel` set to true
/// stops it where it is (exit 137); `on_output` gets each chunk of
/// stdout and stderr as it is produced.
pub async fn run(
    script: &str,
    setup: Setup,
    cancel: Arc<AtomicBool>,
    on_output: OutputSink,
) -> Outcome {
    let fs = Arc::new(InMemoryFs::with_limits(fs_limits()));
    let mut before = HashMap::new();
    for (path, contents) in setup.files {
        if let Some(dir) = path.strip_suffix('/') {
            fs.add_dir(dir, 0o755);
        } else {
            fs.add_file(&path, &contents, 0o644);
        }
        before.insert(path, contents);
    }
    // What add_dir/add_file created on the way (parents) counts as "there before".
    let before_disk = disk_of(&fs);

    let mut builder = Bash::builder()
        .fs(fs.clone())
        .username("user")
        .hostname(setup.hostname.as_str())
        .cwd(HOME)
        .env("HOME", HOME)
        .env("USER", "user")
        .env("SHELL", "/bin/bash")
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .limits(limits())
        // Every run is a new shell, so its per-run limits are the ones that count.
        .session_limits(SessionLimits::unlimited())
        .command_resolver(Arc::new(NotEmulated));
    for (k, v) in &setup.env {
        builder = builder.env(k.as_str(), v.as_str());
    }
    let mut bash = builder.build();
    if let Some(state) = &setup.state {
        bash.restore_shell_state(state);
    }
    // What it printed so far, for a run that ends without a result of its own (killed,
    // or stopped by a limit): that output still counts.
    let printed = Arc::new(Mutex::new((String::new(), String::new())));
    let mut on_output = on_output;
    let seen = printed.clone();
    let callback: bashkit::OutputCallback = Box::new(move |out, err| {
        let (out, err) = (out.to_string(), err.to_string());
        {
            let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
            push_capped(&mut seen.0, &out);
            push_capped(&mut seen.1, &err);
        }
        on_output(&out, &err);
    });
    let mut options = bashkit::ExecOptions::new().streaming(callback);
    if let Some(stdin) = setup.stdin {
        options = options.stdin(stdin);
    }
    // A kill drops the run wherever it is (bashkit's own token only stops it between
    // commands, which a long `sleep` never reaches). What it wrote until then stays.
    let result = tokio::select! {
        r = bash.exec_with_options(script, options) => r,
        () = cancelled(&cancel) => Err(bashkit::Error::Cancelled),
    };
    let (exit_code, stdout, stderr, stdout_truncated, stderr_truncated) = match result {
        Ok(r) => (
            r.exit_code,
            r.stdout.to_string(),
            r.stderr.to_string(),
            r.stdout_truncated,
            r.stderr_truncated,
        ),
        Err(e) => {
            let (out, mut err) =
                std::mem::take(&mut *printed.lock().unwrap_or_else(PoisonError::into_inner));
            let code = match &e {
                bashkit::Error::Cancelled => 137,
                bashkit::Error::Parse { .. } => 2,
                bashkit::Error::ResourceLimit(_) => 124,
                _ => 1,
            };
            if code == 137 {
                err.push_str("Killed\n");
            } else {
                err.push_str(&format!("bash: {e}\n"));
            }
            (code, out, err, false, false)
        }
    };

    let after = disk_of(&fs);
    let mut changes = FileChanges::default();
    for (path, contents) in &after {
        // Against the disk as loaded: parents that loading created are not news.
        if before_disk.get(path) != Some(contents) {
            changes.written.push((path.clone(), contents.clone()));
        }
    }
    for path in before.keys() {
        if !after.contains_key(path) {
            changes.removed.push(path.clone());
        }
    }
    changes.written.sort();
    changes.removed.sort();
    Outcome {
        exit_code,
        stdout,
        stderr,
        stdout_truncated,
        stderr_truncated,
        changes,
        state: Some(bash.shell_state()),
    }
}
