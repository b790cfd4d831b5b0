//! The real `snapdeck-server` binary as a child process, for tests that need a socket.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running server; killed when dropped so a failing test leaves nothing behind.
pub struct Server {
    child: Child,
    /// The rest of stdout, kept open so the server never writes into a closed pipe.
    stdout: BufReader<std::process::ChildStdout>,
    /// `http://127.0.0.1:PORT`, from the first stdout line.
    pub url: String,
}

impl Server {
    /// Starts the binary on a free port with `args` and waits for its address.
    pub fn start(args: &[&std::ffi::OsStr]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_snapdeck-server"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            // Quiet unless the person running the tests asks for logs.
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn snapdeck-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        stdout.read_line(&mut line).expect("first line");
        let url = line
            .trim()
            .strip_prefix("snapdeck-server listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, stdout, url }
    }

    /// The next line the server printed after the address (e.g. the token URL).
    pub fn next_line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("a line");
        line.trim().to_owned()
    }

    /// SIGKILL: no chance to flush anything, the harshest stop.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `&str` arguments as `OsStr`s.
#[macro_export]
macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$(std::ffi::OsStr::new($a)),*] };
}
