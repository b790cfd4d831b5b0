"""The fan-out baseline: N devboxes from one snapshot, one by one, with the official
Python SDK's create_and_await_running (the obvious script). Counts the HTTP requests
it sends through an httpx event hook.

Usage: python fanout_sdk.py BASE_URL API_KEY SNAPSHOT_ID COUNT RESULT_JSON
"""

import json
import sys
import time

import httpx
from runloop_api_client import Runloop

base_url, api_key, snapshot_id, count, result_path = sys.argv[1:6]
requests = 0


def count_request(_request):
    global requests
    requests += 1


http = httpx.Client(event_hooks={"request": [count_request]})
client = Runloop(bearer_token=api_key, base_url=base_url, http_client=http)
t0 = time.perf_counter()
for n in range(int(count)):
    client.devboxes.create_and_await_running(
        name=f"sdk-try-{n + 1}", snapshot_id=snapshot_id,
        metadata={"snapdeck.fanout": "fo_sdk", "snapdeck.attempt": str(n + 1)},
    )
secs = time.perf_counter() - t0
with open(result_path, "w") as f:
    json.dump({"count": int(count), "secs": secs, "requests": requests}, f)
