"""Conformance of snapdeck-server with Runloop's official Python SDK (runloop_api_client).

Drives the snapshot workflows of Runloop's own guide through the SDK's public methods,
against the emulator named by RUNLOOP_BASE_URL / RUNLOOP_API_KEY. Each check prints
`ok - ...` or `not ok - ...`; the last line is `N passed, M failed`; the exit code is 1
on any failure. Started by run.sh, which also starts the server.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import urllib.request
import warnings
from typing import Callable

import runloop_api_client
from runloop_api_client import Runloop

try:
    from runloop_api_client._version import __version__ as SDK_VERSION
except Exception:  # pragma: no cover - very old SDKs
    SDK_VERSION = "unknown"

# execute_sync is deprecated in SDK 3.0 but still part of the API the emulator serves.
warnings.filterwarnings("ignore", category=DeprecationWarning)

RESULTS: list[tuple[str, bool]] = []


def check(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Registers and runs a check in file order; a failing check does not stop the rest."""

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        try:
            fn()
            RESULTS.append((name, True))
            print(f"ok - {name}", flush=True)
        except Exception:  # noqa: BLE001 - report every failure the same way
            RESULTS.append((name, False))
            print(f"not ok - {name}", flush=True)
            traceback.print_exc()
        return fn

    return wrap


client = Runloop()  # RUNLOOP_BASE_URL and RUNLOOP_API_KEY from the environment
print(f"# runloop_api_client {SDK_VERSION} against {os.environ['RUNLOOP_BASE_URL']}", flush=True)
state: dict[str, str] = {}


def expect_status_error(exc_type: type, fn: Callable[[], object], max_seconds: float = 2.0) -> Exception:
    """Runs fn expecting exc_type, fast: a deliberate refusal must not be retried."""
    started = time.monotonic()
    try:
        fn()
    except exc_type as e:  # type: ignore[misc]
        elapsed = time.monotonic() - started
        assert elapsed < max_seconds, f"took {elapsed:.1f}s: the SDK retried a deliberate refusal"
        return e
    raise AssertionError(f"expected {exc_type.__name__}")


@check("create_and_await_running brings a devbox to running")
def _() -> None:
    dbx = client.devboxes.create_and_await_running(name="sdk-conformance", metadata={"suite": "sdk"})
    assert dbx.status == "running", dbx.status
    assert dbx.name == "sdk-conformance"
    assert dbx.metadata == {"suite": "sdk"}
    statuses = [t.status for t in dbx.state_transitions]
    assert statuses == ["provisioning", "initializing", "running"], statuses
    state["dbx"] = dbx.id


@check("write_file_contents writes a file")
def _() -> None:
    out = client.devboxes.write_file_contents(state["dbx"], file_path="notes/hello.txt", contents="version 1")
    assert out.exit_status == 0


@check("snapshot_disk_async returns at once and await_completed sees it complete")
def _() -> None:
    started = time.monotonic()
    snap = client.devboxes.snapshot_disk_async(
        state["dbx"], name="first", commit_message="version 1 of hello.txt", metadata={"env": "test"}
    )
    assert time.monotonic() - started < 1.0, "async snapshot must not wait"
    assert snap.id.startswith("snp_"), snap.id
    assert snap.source_devbox_id == state["dbx"]
    assert client.devboxes.disk_snapshots.query_status(snap.id).status == "in_progress"
    done = client.devboxes.disk_snapshots.await_completed(snap.id)
    assert done.status == "complete", done.status
    assert done.snapshot is not None and done.snapshot.id == snap.id
    assert (done.snapshot.size_bytes or 0) > 0
    state["snap1"] = snap.id


@check("a second snapshot after changing the file")
def _() -> None:
    client.devboxes.write_file_contents(state["dbx"], file_path="notes/hello.txt", contents="version 2")
    snap = client.devboxes.snapshot_disk_async(state["dbx"], name="second", metadata={"env": "test"})
    client.devboxes.disk_snapshots.await_completed(snap.id)
    state["snap2"] = snap.id


@check("a devbox created from the first snapshot reads the file as it was")
def _() -> None:
    restored = client.devboxes.create_and_await_running(snapshot_id=state["snap1"], name="restored")
    assert restored.snapshot_id == state["snap1"]
    text = client.devboxes.read_file_contents(restored.id, file_path="notes/hello.txt")
    assert text == "version 1", repr(text)
    # The original devbox still has the later version.
    assert client.devboxes.read_file_contents(state["dbx"], file_path="notes/hello.txt") == "version 2"
    state["restored"] = restored.id


@check("disk_snapshots.list shows the devbox's snapshots newest first and pages with a cursor")
def _() -> None:
    page = client.devboxes.disk_snapshots.list(devbox_id=state["dbx"])
    ids = [s.id for s in page.snapshots]
    assert ids == [state["snap2"], state["snap1"]], ids
    assert page.total_count == 2
    paged = [s.id for s in client.devboxes.disk_snapshots.list(devbox_id=state["dbx"], limit=1)]
    assert paged == ids, paged
    filtered = client.devboxes.disk_snapshots.list(extra_query={"metadata[env]": "test"})
    assert {s.id for s in filtered.snapshots} == set(ids)


@check("devboxes.list filters by status and pages")
def _() -> None:
    running = client.devboxes.list(status="running")
    assert {d.id for d in running.devboxes} >= {state["dbx"], state["restored"]}
    everything = [d.id for d in client.devboxes.list(limit=1)]
    assert len(everything) == len(set(everything)) >= 2


@check("deleting a snapshot still in progress is a prompt 409")
def _() -> None:
    snap = client.devboxes.snapshot_disk_async(state["dbx"], name="third")
    state["snap3"] = snap.id
    err = expect_status_error(
        runloop_api_client.ConflictError, lambda: client.devboxes.disk_snapshots.delete(snap.id)
    )
    assert err.status_code == 409


@check("shutdown while a snapshot is in progress is a prompt 409")
def _() -> None:
    err = expect_status_error(
        runloop_api_client.ConflictError, lambda: client.devboxes.shutdown(state["dbx"])
    )
    assert err.status_code == 409


@check("cleanup keeps the newest complete snapshot and deletes the older ones")
def _() -> None:
    client.devboxes.disk_snapshots.await_completed(state["snap3"])
    newest = state["snap3"]
    for s in client.devboxes.disk_snapshots.list(devbox_id=state["dbx"]).snapshots:
        if s.id != newest:
            client.devboxes.disk_snapshots.delete(s.id)
    assert client.devboxes.disk_snapshots.query_status(state["snap1"]).status == "deleted"
    left = [s.id for s in client.devboxes.disk_snapshots.list(devbox_id=state["dbx"]).snapshots]
    assert left == [newest], left


@check("update_disk_snapshot replaces the metadata")
def _() -> None:
    updated = client.devboxes.disk_snapshots.update(
        state["snap3"], name="third", metadata={"snapdeck.pinned": "true"}
    )
    assert updated.metadata == {"snapdeck.pinned": "true"}, updated.metadata
    assert updated.name == "third"


@check("synchronous snapshot_disk returns the finished snapshot")
def _() -> None:
    snap = client.devboxes.snapshot_disk(state["dbx"], name="sync")
    assert client.devboxes.disk_snapshots.query_status(snap.id).status == "complete"


@check("suspend, await_suspended, resume, await_running")
def _() -> None:
    dbx = state["restored"]
    assert client.devboxes.suspend(dbx).status == "suspending"
    assert client.devboxes.await_suspended(dbx).status == "suspended"
    assert client.devboxes.resume(dbx).status == "resuming"
    assert client.devboxes.await_running(dbx).status == "running"
    assert client.devboxes.keep_alive(dbx) is not None


@check("a repeated idempotency key creates one devbox")
def _() -> None:
    a = client.devboxes.create(name="idem", idempotency_key="conformance-idem-1")
    b = client.devboxes.create(name="idem", idempotency_key="conformance-idem-1")
    assert a.id == b.id


@check("shutdown succeeds once no snapshot is in progress")
def _() -> None:
    dbx = client.devboxes.shutdown(state["dbx"])
    assert dbx.status == "shutdown" and dbx.shutdown_reason == "api_shutdown"
    assert dbx.end_time_ms is not None


@check("errors map to the SDK's exception classes")
def _() -> None:
    expect_status_error(runloop_api_client.NotFoundError, lambda: client.devboxes.retrieve("dbx_missing"))
    expect_status_error(
        runloop_api_client.NotFoundError, lambda: client.devboxes.disk_snapshots.query_status("snp_missing")
    )
    wrong = Runloop(bearer_token="wrong-key", max_retries=0)
    expect_status_error(runloop_api_client.AuthenticationError, lambda: wrong.devboxes.list())


@check("the object-oriented RunloopSDK layer: create, write, snapshot, restore, read")
def _() -> None:
    try:
        from runloop_api_client import RunloopSDK
    except ImportError:
        print("# RunloopSDK is not in this SDK version; nothing to check")
        return
    sdk = RunloopSDK()
    devbox = sdk.devbox.create(name="oo-sdk")
    devbox.file.write(file_path="oo.txt", contents="object layer")
    snapshot = devbox.snapshot_disk(name="oo-snapshot")
    assert snapshot.get_info().status == "complete"
    clone = snapshot.create_devbox(name="oo-clone")
    assert clone.file.read(file_path="oo.txt") == "object layer"
    clone.shutdown()
    devbox.shutdown()


def control(path: str, body: dict[str, object]) -> dict[str, object]:
    """POSTs to the emulator's control surface (no auth)."""
    req = urllib.request.Request(
        os.environ["RUNLOOP_BASE_URL"] + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    return json.loads(urllib.request.urlopen(req, timeout=5).read())


@check("execute_sync runs a command on the emulated disk, seen by the file API")
def _() -> None:
    dbx = client.devboxes.create_and_await_running(name="commands")
    state["cmd"] = dbx.id
    out = client.devboxes.execute_sync(dbx.id, command="echo v2 > f.txt && cat f.txt; echo warn >&2")
    assert out.exit_status == 0, out
    assert out.stdout == "v2\n", repr(out.stdout)
    assert out.stderr == "warn\n", repr(out.stderr)
    assert client.devboxes.read_file_contents(dbx.id, file_path="f.txt") == "v2\n"


@check("pipes, quoting, heredocs and exit codes")
def _() -> None:
    out = client.devboxes.execute_sync(
        state["cmd"], command="X='a b'; printf 'c\\nb\\na\\n' | sort | head -n 2; echo \"$X\"; cat <<EOF\nhere\nEOF\nexit 3"
    )
    assert out.exit_status == 3, out
    assert out.stdout == "a\nb\na b\nhere\n", repr(out.stdout)


@check("an unsupported command is exit 127 with the emulator's message")
def _() -> None:
    out = client.devboxes.execute_sync(state["cmd"], command="python3 -V")
    assert out.exit_status == 127, out
    assert out.stderr.startswith("command not found: python3 (snapdeck-server emulates commands"), out.stderr


@check("execute_and_await_completion, a named shell keeping cwd and env")
def _() -> None:
    shell = {"shell_name": "conformance"}
    first = client.devboxes.execute_and_await_completion(
        state["cmd"], command="mkdir -p /srv/x && cd /srv/x && export K=v", extra_body=shell
    )
    assert first.status == "completed" and first.exit_status == 0, first
    second = client.devboxes.execute_and_await_completion(state["cmd"], command="pwd; echo $K", extra_body=shell)
    assert second.stdout == "/srv/x\nv\n", repr(second.stdout)
    fresh = client.devboxes.execute_and_await_completion(state["cmd"], command="pwd")
    assert fresh.stdout == "/home/user\n", repr(fresh.stdout)


@check("execute_async, executions.await_completed, retrieve with last_n, the stdout stream")
def _() -> None:
    ex = client.devboxes.execute_async(state["cmd"], command="seq 1 150")
    assert ex.execution_id, ex
    done = client.devboxes.executions.await_completed(ex.execution_id, state["cmd"])
    assert done.status == "completed" and done.exit_status == 0, done
    assert done.stdout_truncated is True and (done.stdout or "").count("\n") == 100, done.stdout
    five = client.devboxes.executions.retrieve(ex.execution_id, devbox_id=state["cmd"], last_n="5")
    assert five.stdout == "146\n147\n148\n149\n150\n", repr(five.stdout)
    streamed = "".join(
        chunk.output
        for chunk in client.devboxes.executions.stream_stdout_updates(ex.execution_id, devbox_id=state["cmd"])
    )
    assert streamed.count("\n") == 150, len(streamed)


@check("executions.kill stops a running command")
def _() -> None:
    ex = client.devboxes.execute_async(state["cmd"], command="sleep 30")
    killed = client.devboxes.executions.kill(ex.execution_id, devbox_id=state["cmd"])
    assert killed.status == "completed" and killed.exit_status == 137, killed


@check("upload_file (multipart) and download_file round-trip bytes")
def _() -> None:
    data = bytes([0, 1, 2, 255, 10]) + b"tail"
    client.devboxes.upload_file(state["cmd"], path="up/blob.bin", file=("blob.bin", data))
    got = client.devboxes.download_file(state["cmd"], path="up/blob.bin").read()
    assert got == data, got
    out = client.devboxes.execute_sync(state["cmd"], command="wc -c < up/blob.bin")
    assert out.stdout.strip() == str(len(data)), out.stdout


@check("devbox logs list each execution's lines, filtered by execution")
def _() -> None:
    ex = client.devboxes.execute_and_await_completion(state["cmd"], command="echo logged; exit 2")
    logs = client.devboxes.logs.list(state["cmd"], execution_id=ex.execution_id).logs
    assert [log.message for log in logs if log.message] == ["logged"], logs
    assert logs[-1].exit_code == 2 and logs[-1].source == "exec", logs[-1]
    everything = client.devboxes.logs.list(state["cmd"]).logs
    assert any(log.source == "kmsg" for log in everything)


@check("a snapshot after execute_sync restores what the command wrote")
def _() -> None:
    client.devboxes.execute_sync(state["cmd"], command="echo v2 > /home/user/f")
    snap = client.devboxes.snapshot_disk(state["cmd"], name="after-command")
    client.devboxes.execute_sync(state["cmd"], command="echo v3 > /home/user/f")
    restored = client.devboxes.create_and_await_running(snapshot_id=snap.id)
    out = client.devboxes.execute_sync(restored.id, command="cat /home/user/f")
    assert out.stdout == "v2\n", repr(out.stdout)
    client.devboxes.shutdown(restored.id)


@check("file_mounts and launch_commands are applied at boot")
def _() -> None:
    dbx = client.devboxes.create_and_await_running(
        file_mounts={"/etc/app.conf": "port=1\n"},
        launch_parameters={"launch_commands": ["mkdir -p /opt/app && echo booted > /opt/app/state"]},
    )
    assert client.devboxes.read_file_contents(dbx.id, file_path="/etc/app.conf") == "port=1\n"
    assert client.devboxes.read_file_contents(dbx.id, file_path="/opt/app/state") == "booted\n"
    client.devboxes.shutdown(dbx.id)


@check("blueprint build logs and list_public")
def _() -> None:
    bp = client.blueprints.create_and_await_build_complete(name="conformance-bp", system_setup_commands=["echo hi"])
    assert bp.status == "build_complete", bp.status
    logs = client.blueprints.logs(bp.id)
    assert logs.blueprint_id == bp.id
    assert logs.logs[-1].message == "Build complete", logs.logs[-1]
    assert list(client.blueprints.list_public()) == []


@check("a boot made to fail ends the SDK's await in an error; keep-alive shuts down on the emulator clock")
def _() -> None:
    control("/_emulator/faults", {"fail_next_boots": 1, "boot_failure_reason": "out_of_memory"})
    try:
        client.devboxes.create_and_await_running(name="doomed")
    except Exception as e:  # noqa: BLE001 - the SDKs raise a generic error here
        assert "failure" in str(e), e
    else:
        raise AssertionError("create_and_await_running accepted a failed boot")
    failed = [d for d in client.devboxes.list(status="failure").devboxes if d.name == "doomed"]
    assert failed and failed[0].failure_reason == "out_of_memory", failed
    dbx = client.devboxes.create_and_await_running(launch_parameters={"keep_alive_time_seconds": 60})
    control("/_emulator/clock", {"advance_seconds": 61})
    gone = client.devboxes.retrieve(dbx.id)
    assert gone.status == "shutdown" and gone.shutdown_reason == "keep_alive_timeout", gone


@check("the object layer runs commands: cmd.exec with callbacks, exec_async and kill, files, logs")
def _() -> None:
    try:
        from runloop_api_client import RunloopSDK
    except ImportError:
        print("# RunloopSDK is not in this SDK version; nothing to check")
        return
    sdk = RunloopSDK()
    devbox = sdk.devbox.create(name="oo-commands")
    lines: list[str] = []
    result = devbox.cmd.exec("echo one; echo two", stdout=lines.append)
    assert result.exit_code == 0 and result.stdout() == "one\ntwo\n", result.stdout()
    assert "".join(lines) == "one\ntwo\n", lines
    execution = devbox.cmd.exec_async("sleep 30")
    execution.kill()
    assert execution.result().exit_code == 137
    devbox.file.upload(path="oo.bin", file=("oo.bin", b"\x00\x01"))
    assert devbox.file.download(path="oo.bin") == b"\x00\x01"
    devbox.cmd.exec("echo v2 > f")
    snapshot = devbox.snapshot_disk(name="oo-after-command")
    clone = snapshot.create_devbox(name="oo-command-clone")
    assert clone.cmd.exec("cat f").stdout() == "v2\n"
    assert any(log.source == "exec" for log in devbox.logs().logs)
    blueprint = sdk.blueprint.create(name="oo-bp", dockerfile="FROM ubuntu:24.04")
    assert blueprint.logs().logs[-1].message == "Build complete"
    clone.shutdown()
    devbox.shutdown()


def set_faults(**knobs: object) -> None:
    """Sets the emulator's fault knobs through its control endpoint (no auth)."""
    req = urllib.request.Request(
        os.environ["RUNLOOP_BASE_URL"] + "/_emulator/faults",
        data=json.dumps(knobs).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(req, timeout=5).read()


@check("the SDK's retries ride out injected 503s, 429s and dropped connections, creating once")
def _() -> None:
    before = client.devboxes.list(limit=100).total_count
    # Rates low enough that six attempts all failing (the SDK gives up) is ~1 in 3000.
    set_faults(fault_5xx_rate=0.1, fault_429_rate=0.1, fault_retry_after_s=1, fault_drop_rate=0.1)
    try:
        names = [f"flaky-{i}" for i in range(4)]
        ids = {client.devboxes.create(name=n).id for n in names}
        for _ in range(4):
            client.devboxes.list(limit=5)
    finally:
        set_faults(fault_5xx_rate=0, fault_429_rate=0, fault_drop_rate=0)
    assert len(ids) == 4
    assert client.devboxes.list(limit=100).total_count == before + 4


passed = sum(ok for _, ok in RESULTS)
failed = len(RESULTS) - passed
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
