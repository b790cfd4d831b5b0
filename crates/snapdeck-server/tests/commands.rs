//! Commands through the router in-process (`tower::ServiceExt::oneshot`): the
//! interpreted subset (exit codes, redirects, pipes, quoting, heredocs, named shells),
//! the execution endpoints (async, wait, kill, stdin, streams, `last_n`, logs), what a
//! snapshot captures, and that nothing on the host is ever touched.

use axum::http::StatusCode;
use serde_json::{Value, json};

mod common;
use common::Emu;

const NOT_EMULATED: &str = "(snapdeck-server emulates commands: see its README)";

impl Emu {
    /// `execute_sync`: (exit status, stdout, stderr).
    async fn sh(&self, id: &str, command: &str) -> (i64, String, String) {
        self.sh_in(id, command, None).await
    }

    async fn sh_in(&self, id: &str, command: &str, shell: Option<&str>) -> (i64, String, String) {
        let mut body = json!({ "command": command });
        if let Some(shell) = shell {
            body["shell_name"] = json!(shell);
        }
        let v = self
            .post(&format!("/v1/devboxes/{id}/execute_sync"), body)
            .await
            .ok();
        (
            v["exit_status"].as_i64().expect("exit_status"),
            v["stdout"].as_str().expect("stdout").to_owned(),
            v["stderr"].as_str().expect("stderr").to_owned(),
        )
    }

    async fn wait_exec(&self, id: &str, exec: &str) -> Value {
        self.post(
            &format!("/v1/devboxes/{id}/executions/{exec}/wait_for_status"),
            json!({"statuses": ["completed"], "timeout_seconds": 10}),
        )
        .await
        .ok()
    }
}

#[tokio::test]
async fn exit_codes_come_from_the_last_command_and_exit_n() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    assert_eq!(emu.sh(&id, "true").await.0, 0);
    assert_eq!(emu.sh(&id, "false").await.0, 1);
    assert_eq!(emu.sh(&id, "exit 7").await.0, 7);
    assert_eq!(emu.sh(&id, "false || exit 3; echo no").await.0, 3);
    let (code, out, _) = emu
        .sh(&id, "true && echo yes; false && echo no; true")
        .await;
    assert_eq!((code, out.as_str()), (0, "yes\n"));
    let (code, _, err) = emu.sh(&id, "test -f /nope").await;
    assert_eq!((code, err.as_str()), (1, ""));
    assert_eq!(emu.sh(&id, "[ 2 -gt 1 ]").await.0, 0);
}

#[tokio::test]
async fn redirects_write_the_emulated_disk_that_the_file_api_reads() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    let (code, out, err) = emu
        .sh(
            &id,
            "echo one > notes.txt; printf '%s\\n' two >> notes.txt; echo oops >&2; \
             ls /missing 2> err.txt; cat notes.txt",
        )
        .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "one\ntwo\n");
    assert_eq!(err, "oops\n");
    assert_eq!(
        emu.read_file(&id, "notes.txt").await,
        (StatusCode::OK, "one\ntwo\n".to_owned())
    );
    let (status, text) = emu.read_file(&id, "/home/user/err.txt").await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("missing"), "{text}");
    // And the other way: a file written through the API is there for commands.
    emu.post(
        &format!("/v1/devboxes/{id}/write_file_contents"),
        json!({"file_path": "/etc/app.conf", "contents": "port=1\n"}),
    )
    .await
    .ok();
    assert_eq!(emu.sh(&id, "cat /etc/app.conf").await.1, "port=1\n");
}

#[tokio::test]
async fn pipes_and_the_text_commands() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    let cases = [
        ("printf 'b\\na\\nc\\n' | sort | head -n 2", "a\nb\n"),
        ("printf 'x\\ny\\nz\\n' | tail -n 1", "z\n"),
        ("printf 'a\\nb\\n' | wc -l", "2\n"),
        ("printf 'cat\\ndog\\ncow\\n' | grep c", "cat\ncow\n"),
        ("echo hello | tr a-z A-Z", "HELLO\n"),
        ("echo a,b,c | cut -d, -f2", "b\n"),
        ("printf 'k=1\\n' | sed 's/1/2/'", "k=2\n"),
        ("echo '3 4' | awk '{print $1 + $2}'", "7\n"),
    ];
    for (command, want) in cases {
        let (code, out, err) = emu.sh(&id, command).await;
        assert_eq!((code, out.as_str()), (0, want), "{command}: {err}");
    }
}

#[tokio::test]
async fn quoting_variables_and_heredocs() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    let (_, out, _) = emu
        .sh(
            &id,
            r#"X='a  b'; echo "$X" '$X' $X; echo "it's" 'say "hi"'"#,
        )
        .await;
    assert_eq!(out, "a  b $X a b\nit's say \"hi\"\n");
    let (code, out, err) = emu
        .sh(
            &id,
            "N=2\ncat <<EOF > doc.txt\nline $((N + 1))\n  kept\nEOF\ncat <<'RAW'\n$N\nRAW\ncat doc.txt",
        )
        .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "$N\nline 3\n  kept\n");
}

#[tokio::test]
async fn file_commands_work_on_the_disk_and_directories_persist() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    let (code, _, err) = emu
        .sh(
            &id,
            "mkdir -p proj/src/empty && touch proj/a && echo x > proj/src/b && \
             cp proj/src/b proj/c && mv proj/a proj/d && rm proj/src/b",
        )
        .await;
    assert_eq!(code, 0, "{err}");
    // A later command (a new process) sees the same disk, empty directory included.
    let (_, out, _) = emu.sh(&id, "cd proj && ls && ls src && pwd").await;
    assert_eq!(out, "c\nd\nsrc\nempty\n/home/user/proj\n");
    let (_, out, _) = emu.sh(&id, "rm -rf proj; ls; echo end").await;
    assert_eq!(out, "end\n");
    assert_eq!(emu.read_file(&id, "proj/c").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_fresh_shell_starts_at_home_but_a_named_shell_keeps_cwd_and_env() {
    let emu = Emu::new();
    let dbx = emu
        .post(
            "/v1/devboxes",
            json!({"environment_variables": {"GREETING": "hi"}}),
        )
        .await
        .ok();
    let id = dbx["id"].as_str().expect("id").to_owned();
    emu.post(
        &format!("/v1/devboxes/{id}/wait_for_status"),
        json!({"statuses": ["running"]}),
    )
    .await
    .ok();
    let (_, out, _) = emu.sh(&id, "echo $GREETING $HOME $USER; pwd").await;
    assert_eq!(out, "hi /home/user user\n/home/user\n");

    emu.sh_in(
        &id,
        "mkdir -p /srv/app && cd /srv/app && export MODE=prod",
        Some("s1"),
    )
    .await;
    let (_, out, _) = emu
        .sh_in(&id, "pwd; echo $MODE; env | grep MODE", Some("s1"))
        .await;
    assert_eq!(out, "/srv/app\nprod\nMODE=prod\n");
    // Another shell, or none, does not see it.
    let (_, out, _) = emu.sh_in(&id, "pwd; echo \"[$MODE]\"", Some("s2")).await;
    assert_eq!(out, "/home/user\n[]\n");
    let (_, out, _) = emu.sh(&id, "pwd").await;
    assert_eq!(out, "/home/user\n");
}

#[tokio::test]
async fn an_unsupported_command_is_exit_127_with_the_emulators_message() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    let (code, out, err) = emu.sh(&id, "echo before; python3 -c 'print(1)'").await;
    assert_eq!(code, 127);
    assert_eq!(out, "before\n");
    assert_eq!(err, format!("command not found: python3 {NOT_EMULATED}\n"));
    let (code, _, err) = emu.sh(&id, "apt-get install -y git").await;
    assert_eq!(code, 127);
    assert!(err.starts_with("command not found: apt-get"), "{err}");
}

#[tokio::test]
async fn nothing_on_the_host_is_read_or_touched() {
    // A file on the host that a real shell could reach by its absolute path.
    let host_dir = tempfile::tempdir().expect("tempdir");
    let host_file = host_dir.path().join("keep.txt");
    std::fs::write(&host_file, "host data").expect("write");
    let host_path = host_file.display().to_string();

    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    emu.post(
        &format!("/v1/devboxes/{id}/write_file_contents"),
        json!({"file_path": "mine.txt", "contents": "disk data"}),
    )
    .await
    .ok();

    // The interpreter's /etc is synthetic (the virtual user only, no root line).
    let (_, out, _) = emu.sh(&id, "cat /etc/passwd").await;
    assert!(out.contains("user:x:1000"), "{out}");
    assert!(!out.contains("root:x:0:0"), "{out}");
    for command in [
        "echo \"[$(cat /etc/passwd)]\"",
        "echo \"[`cat /etc/passwd`]\"",
        "echo \"[$(id -un)]\" >/dev/null; echo \"[$(cat /etc/hostname 2>/dev/null)]\"",
    ] {
        let (_, out, _) = emu.sh(&id, command).await;
        assert!(!out.contains("root:x:0:0"), "{command}: {out}");
    }
    let (_, out, _) = emu
        .sh(
            &id,
            &format!("cat {host_path}; echo \"[$(cat {host_path})]\""),
        )
        .await;
    assert!(!out.contains("host data"), "{out}");

    // rm -rf / wipes the emulated disk only.
    emu.sh(
        &id,
        &format!("rm -rf {host_path} {}", host_dir.path().display()),
    )
    .await;
    let (_, _, _) = emu.sh(&id, "rm -rf / 2>/dev/null; rm -rf /*; true").await;
    assert_eq!(
        std::fs::read_to_string(&host_file).expect("host file still there"),
        "host data"
    );
    assert_eq!(
        emu.read_file(&id, "mine.txt").await.0,
        StatusCode::NOT_FOUND
    );
    // The devbox and the emulator go on.
    let (code, out, _) = emu
        .sh(
            &id,
            "mkdir -p /home/user && echo back > /home/user/x && cat /home/user/x",
        )
        .await;
    assert_eq!((code, out.as_str()), (0, "back\n"));
}

#[tokio::test]
async fn loops_and_output_are_bounded() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    // A runaway loop is stopped by a limit (exit 124); what it printed before stays.
    let (code, out, err) = emu.sh(&id, "echo before; while true; do :; done").await;
    assert_eq!(code, 124, "{err}");
    assert_eq!(out, "before\n");
    assert!(err.contains("bash:"), "{err}");
    let v = emu
        .post(
            &format!("/v1/devboxes/{id}/execute_sync"),
            json!({"command": "for i in $(seq 1 90000); do echo 0123456789012345678901234567890123456789012345678901234567890123456789; done"}),
        )
        .await.ok();
    let out = v["stdout"].as_str().expect("stdout");
    assert!(
        out.len() <= snapdeck_server::shell::MAX_OUTPUT_BYTES,
        "{}",
        out.len()
    );
    // Sleeps are capped by the interpreter (60 s at most per sleep), never unbounded.
    let (code, _, _) = emu.sh(&id, "sleep 0.05; echo ok").await;
    assert_eq!(code, 0);
}

#[tokio::test]
async fn a_snapshot_after_execute_sync_restores_what_the_command_wrote() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    emu.sh(&id, "echo v1 > /home/user/f").await;
    let (code, _, _) = emu.sh(&id, "echo v2 > /home/user/f").await;
    assert_eq!(code, 0);
    let snap = emu
        .post(
            &format!("/v1/devboxes/{id}/snapshot_disk"),
            json!({"name": "v2"}),
        )
        .await
        .ok();
    let snap_id = snap["id"].as_str().expect("id");
    emu.sh(&id, "echo v3 > /home/user/f").await;
    let restored = emu
        .post("/v1/devboxes", json!({ "snapshot_id": snap_id }))
        .await
        .ok();
    let rid = restored["id"].as_str().expect("id").to_owned();
    emu.post(
        &format!("/v1/devboxes/{rid}/wait_for_status"),
        json!({"statuses": ["running"]}),
    )
    .await
    .ok();
    assert_eq!(emu.sh(&rid, "cat /home/user/f").await.1, "v2\n");
    assert_eq!(emu.read_file(&rid, "f").await.1, "v2\n");
    assert_eq!(emu.sh(&id, "cat f").await.1, "v3\n");
}

#[tokio::test]
async fn execute_async_then_wait_for_status_and_get_with_last_n() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    let started = emu
        .post(
            &format!("/v1/devboxes/{id}/execute_async"),
            json!({"command": "sleep 0.2; seq 1 150; echo warn >&2"}),
        )
        .await
        .ok();
    let exec = started["execution_id"].as_str().expect("id").to_owned();
    assert!(exec.starts_with("exe_"));
    assert_ne!(started["status"], "completed");
    assert_eq!(started["devbox_id"], id.as_str());
    let done = emu.wait_exec(&id, &exec).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["exit_status"], 0);
    // Default: the last 100 lines, flagged as truncated.
    let out = done["stdout"].as_str().expect("stdout");
    assert_eq!(out.lines().count(), 100);
    assert!(out.starts_with("51\n") && out.ends_with("150\n"), "{out}");
    assert_eq!(done["stdout_truncated"], true);
    assert_eq!(done["stderr"], "warn\n");
    assert_eq!(done["stderr_truncated"], false);
    let (status, five) = emu
        .get(&format!("/v1/devboxes/{id}/executions/{exec}?last_n=5"))
        .await
        .parts();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(five["stdout"], "146\n147\n148\n149\n150\n");
    // The stream has the whole output.
    let sse = emu
        .get(&format!(
            "/v1/devboxes/{id}/executions/{exec}/stream_stdout_updates"
        ))
        .await;
    assert_eq!(sse.status, StatusCode::OK);
    let streamed: String = sse
        .text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| {
            let v: Value = serde_json::from_str(d).expect("json chunk");
            v["output"].as_str().expect("output").to_owned()
        })
        .collect();
    assert_eq!(streamed.lines().count(), 150);
    let (status, _) = emu
        .get(&format!("/v1/devboxes/{id}/executions/{exec}?last_n=x"))
        .await
        .parts();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = emu
        .get(&format!("/v1/devboxes/{id}/executions/exe_missing"))
        .await
        .parts();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn wait_for_status_holds_then_answers_408() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    let started = emu
        .post(
            &format!("/v1/devboxes/{id}/execute_async"),
            json!({"command": "sleep 5"}),
        )
        .await
        .ok();
    let exec = started["execution_id"].as_str().expect("id");
    let (status, _) = emu
        .post(
            &format!("/v1/devboxes/{id}/executions/{exec}/wait_for_status"),
            json!({"statuses": ["completed"], "timeout_seconds": 0.1}),
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
    let running = emu
        .post(
            &format!("/v1/devboxes/{id}/executions/{exec}/wait_for_status"),
            json!({"statuses": ["running"]}),
        )
        .await
        .ok();
    assert_eq!(running["status"], "running");
    emu.post(
        &format!("/v1/devboxes/{id}/executions/{exec}/kill"),
        json!({}),
    )
    .await
    .ok();
}

#[tokio::test]
async fn kill_stops_a_running_command_and_keeps_what_it_wrote() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    let started = emu
        .post(
            &format!("/v1/devboxes/{id}/execute_async"),
            json!({"command": "echo started; echo partial > p.txt; sleep 30; echo never"}),
        )
        .await
        .ok();
    let exec = started["execution_id"].as_str().expect("id");
    emu.post(
        &format!("/v1/devboxes/{id}/executions/{exec}/wait_for_status"),
        json!({"statuses": ["running"]}),
    )
    .await
    .ok();
    let killed = emu
        .post(
            &format!("/v1/devboxes/{id}/executions/{exec}/kill"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(killed["status"], "completed");
    assert_eq!(killed["exit_status"], 137);
    assert_eq!(killed["stdout"], "started\n");
    assert!(
        killed["stderr"]
            .as_str()
            .unwrap_or("")
            .ends_with("Killed\n")
    );
    assert_eq!(emu.read_file(&id, "p.txt").await.1, "partial\n");
    // Killing it again answers it as it is.
    let again = emu
        .post(
            &format!("/v1/devboxes/{id}/executions/{exec}/kill"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(again["exit_status"], 137);
}

#[tokio::test]
async fn execute_waits_optimistically_and_a_repeated_command_id_runs_once() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    let body = json!({"command": "echo x >> once.txt; echo ran", "command_id": "0190-aaaa"});
    let first = emu
        .post(
            &format!("/v1/devboxes/{id}/execute?last_n=10"),
            body.clone(),
        )
        .await
        .ok();
    assert_eq!(first["status"], "completed");
    assert_eq!(first["stdout"], "ran\n");
    let second = emu
        .post(&format!("/v1/devboxes/{id}/execute"), body)
        .await
        .ok();
    assert_eq!(second["execution_id"], first["execution_id"]);
    assert_eq!(emu.read_file(&id, "once.txt").await.1, "x\n");
    // A command longer than the optimistic timeout answers while still running.
    let slow = emu
        .post(
            &format!("/v1/devboxes/{id}/execute"),
            json!({"command": "sleep 5", "command_id": "0190-bbbb", "optimistic_timeout": 0}),
        )
        .await
        .ok();
    assert_ne!(slow["status"], "completed");
}

#[tokio::test]
async fn stdin_is_sent_then_closed_with_eof() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    let started = emu
        .post(
            &format!("/v1/devboxes/{id}/execute_async"),
            json!({"command": "wc -l; cat > in.txt", "attach_stdin": true}),
        )
        .await
        .ok();
    let exec = started["execution_id"].as_str().expect("id");
    assert_eq!(started["status"], "queued");
    let sent = emu
        .post(
            &format!("/v1/devboxes/{id}/executions/{exec}/send_std_in"),
            json!({"text": "a\nb\n"}),
        )
        .await
        .ok();
    assert_eq!(sent["success"], true);
    emu.post(
        &format!("/v1/devboxes/{id}/executions/{exec}/send_std_in"),
        json!({"signal": "EOF"}),
    )
    .await
    .ok();
    let done = emu.wait_exec(&id, exec).await;
    assert_eq!(done["stdout"], "2\n");
    // After EOF, and for a command without attach_stdin, stdin is refused.
    let (status, _) = emu
        .post(
            &format!("/v1/devboxes/{id}/executions/{exec}/send_std_in"),
            json!({"text": "late"}),
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = emu
        .post(
            &format!("/v1/devboxes/{id}/executions/{exec}/send_std_in"),
            json!({}),
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn logs_list_each_executions_lines_and_filter_by_execution_and_shell() {
    let emu = Emu::new();
    let id = emu.running_devbox("cmd").await;
    emu.sh(&id, "echo first").await;
    let v = emu
        .post(
            &format!("/v1/devboxes/{id}/execute"),
            json!({"command": "echo second; echo bad >&2; exit 4", "shell_name": "s"}),
        )
        .await
        .ok();
    let exec = v["execution_id"].as_str().expect("id");
    let (status, all) = emu.get(&format!("/v1/devboxes/{id}/logs")).await.parts();
    assert_eq!(status, StatusCode::OK);
    let messages: Vec<&str> = all["logs"]
        .as_array()
        .expect("logs")
        .iter()
        .filter(|l| l["source"] == "exec")
        .filter_map(|l| l["message"].as_str())
        .collect();
    assert_eq!(messages, ["first", "second", "bad"]);
    let (_, one) = emu
        .get(&format!("/v1/devboxes/{id}/logs?execution_id={exec}"))
        .await
        .parts();
    let lines = one["logs"].as_array().expect("logs");
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l["cmd_id"] == exec));
    assert_eq!(lines[1]["level"], "error");
    assert_eq!(lines[2]["exit_code"], 4);
    let (_, shell) = emu
        .get(&format!("/v1/devboxes/{id}/logs?shell_name=s"))
        .await
        .parts();
    assert_eq!(shell["logs"].as_array().expect("logs").len(), 3);
    let (status, _) = emu.get("/v1/devboxes/dbx_missing/logs").await.parts();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn commands_need_a_running_devbox_and_a_command() {
    let emu = Emu::new();
    let dbx = emu.post("/v1/devboxes", json!({})).await.ok();
    let id = dbx["id"].as_str().expect("id").to_owned();
    let (status, _) = emu
        .post(
            &format!("/v1/devboxes/{id}/execute_sync"),
            json!({"command": "true"}),
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let id = emu.running_devbox("cmd").await;
    let (status, _) = emu
        .post(
            &format!("/v1/devboxes/{id}/execute_async"),
            json!({"command": " "}),
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = emu
        .post(
            "/v1/devboxes/dbx_missing/execute_async",
            json!({"command": "true"}),
        )
        .await
        .parts();
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Shutting the devbox down kills what runs on it.
    let started = emu
        .post(
            &format!("/v1/devboxes/{id}/execute_async"),
            json!({"command": "sleep 30"}),
        )
        .await
        .ok();
    let exec = started["execution_id"].as_str().expect("id");
    emu.post(&format!("/v1/devboxes/{id}/shutdown"), json!({}))
        .await
        .ok();
    let done = emu.wait_exec(&id, exec).await;
    assert_eq!(done["exit_status"], 137);
}
