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
from typing import Callable

import runloop_api_client
from runloop_api_client import Runloop

try:
    from runloop_api_client._version import __version__ as SDK_VERSION
except Exception:  # pragma: no cover - very old SDKs
    SDK_VERSION = "unknown"

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
