"""The cleanup sample of Runloop's snapshot page (shared/ref/000_fa9cdae3fccc3749.txt),
run through the official Python SDK (runloop_api_client) — the baseline scripts/bench
holds snapdeck's bulk cleanup against.

Usage: python seed_cleanup.py BASE_URL API_KEY DEVBOX_ID RESULT_JSON

Changes to the sample, and only these:
  * the bug: it deletes `old_snapshot.id`, a name that does not exist -> `snapshot.id`;
  * `limit=5000` on the list: the sample lists one page (the API's default page is 20),
    so as written it would only ever look at the 20 newest snapshots;
  * `devbox` is fetched by id, and the timing around the list + delete loop is added.

The sample's own prints ("Deleted old snapshot: ...") go to stdout; the figures go to
RESULT_JSON.
"""

import json
import sys
import time

from runloop_api_client import Runloop

base_url, api_key, devbox_id, result_path = sys.argv[1:5]
client = Runloop(bearer_token=api_key, base_url=base_url)
devbox = client.devboxes.retrieve(devbox_id)

# ---- the sample, from here ----

# Create a new snapshot
new_snapshot = client.devboxes.snapshot_disk_async(devbox.id)

# Poll until snapshot is complete
while True:
    status = client.devboxes.disk_snapshots.query_status(new_snapshot.id)
    if status.status == 'complete':
        break
    elif status.status == 'error':
        print(f"Snapshot failed: {status.error_message}")
        break
    time.sleep(1)

t0 = time.perf_counter()
deleted = 0

# Get all snapshots for this devbox
snapshot_results = client.devboxes.disk_snapshots.list(devbox_id=devbox.id, limit=5000)

# Delete all older snapshots, keeping only the newest one
for snapshot in snapshot_results.snapshots:
    if snapshot.id != new_snapshot.id:
        client.devboxes.disk_snapshots.delete(snapshot.id)
        print(f"Deleted old snapshot: {snapshot.id}")
        deleted += 1

# ---- end of the sample ----

secs = time.perf_counter() - t0
with open(result_path, "w") as f:
    json.dump(
        {
            "devbox_id": devbox.id,
            "kept": new_snapshot.id,
            "listed": len(snapshot_results.snapshots),
            "deleted": deleted,
            "requests": 1 + deleted,
            "secs": secs,
        },
        f,
    )
