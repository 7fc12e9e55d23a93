"""``loyjoy-relay dev``: the demo page drives the real pipeline and the live view shows it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.emulators import unavailable
from tests.support.net import wait_until

DEV_TIMEOUT = 180


class DevProcess:
    """``loyjoy-relay dev --port 0`` in its own process group, with its printed URLs."""

    def __init__(self, *args: str) -> None:
        self.log = Path(tempfile.mkstemp(suffix=".log")[1])
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "loyjoy_relay.cli.main", "dev", "--port", "0", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")},
            )
        wait_until(
            lambda: "Press Ctrl-C" in self.output(),
            timeout=DEV_TIMEOUT,
            what="loyjoy-relay dev to start",
            alive=self.process,  # type: ignore[arg-type]
        )
        self.live = self._url("live view")
        self.demo = self._url("demo page")
        self.ingest = self._url("ingest")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def _url(self, label: str) -> str:
        match = re.search(rf"{label}\s+(http://\S+)", self.output())
        assert match, self.output()
        return match.group(1)

    def flow(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.live + "api/flow", timeout=10) as response:
            return dict(json.loads(response.read()))

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture(scope="module", params=["emulators", "embedded"])
def dev(request: pytest.FixtureRequest) -> Iterator[DevProcess]:
    """The dev stack in both of its modes."""
    from loyjoy_relay.devstack.emulators import gcloud_has

    args: tuple[str, ...] = ()
    if request.param == "embedded":
        args = ("--embedded",)
    elif not (gcloud_has("pubsub") and gcloud_has("firestore")):
        unavailable("the emulators are not installed")
    process = DevProcess(*args)
    yield process
    process.stop()
    assert process.process.returncode == 0, process.output()[-3000:]


def decisions(dev: DevProcess) -> dict[str, set[str]]:
    """Decisions the live view's data shows, by event name."""
    seen: dict[str, set[str]] = {}
    for flow in dev.flow()["events"]:
        if flow["decision"]:
            seen.setdefault(flow["evt"], set()).add(flow["decision"])
    return seen


def test_demo_opt_in_and_opt_out_change_decisions_in_the_live_view(
    dev: DevProcess, browser: Any, tmp_path: Path
) -> None:
    """Clicking through an opt-in and an opt-out on the demo page shows the decisions change,
    and each event's derived context (device, the time zone's place)."""
    context = browser.new_context(timezone_id="Europe/Vienna")
    errors: list[str] = []
    demo = context.new_page()
    demo.on("pageerror", lambda error: errors.append(str(error)))
    demo.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    demo.goto(dev.demo)
    demo.click("button[data-command=open]")
    demo.click("button[data-evt=start]")  # before any decision: default denied → drop
    demo.click("button[data-evt=profiling_single_opt_in]")
    demo.click("button[data-evt=interaction]")  # granted → forward
    demo.click("#flush")
    wait_until(
        lambda: "forward" in decisions(dev).get("interaction", set()),
        timeout=60,
        what="the opted-in interaction to be forwarded",
    )
    demo.click("button[data-evt=profiling_opt_out]")
    demo.click("button[data-evt=end]")  # revoked → drop
    demo.click("#flush")
    wait_until(
        lambda: "drop" in decisions(dev).get("end", set()),
        timeout=60,
        what="the event after the opt-out to be dropped",
    )
    seen = decisions(dev)
    assert seen["start"] == {"drop"}
    assert seen["open"] == {"anonymize"}
    live = context.new_page()
    live.on("pageerror", lambda error: errors.append(str(error)))
    live.goto(dev.live)
    live.wait_for_selector("#events tr td .forward")
    live.wait_for_selector("#events tr td .drop")
    rows = live.locator("#events tr").count()
    assert rows >= 6
    shown = {flow["context"] for flow in dev.flow()["events"] if flow["published_at"]}
    assert shown == {"desktop · Linux · Chromium · Europe/Vienna (time zone)"}
    live.wait_for_selector("#events td:has-text('Europe/Vienna (time zone)')")
    shot = tmp_path / "live.png"
    live.screenshot(path=str(shot), full_page=True)
    assert_not_blank(shot)
    context.close()
    assert errors == []


def test_live_view_and_ga4_requests_agree(dev: DevProcess) -> None:
    """Every forwarded event in the live view names the GA4 request that carried it."""
    flow = dev.flow()
    forwarded = [e for e in flow["events"] if e["decision"] in ("forward", "anonymize")]
    assert forwarded
    assert all(e["ga4_request"] for e in forwarded)
    assert flow["ga4_requests"]


def assert_not_blank(png: Path) -> None:
    """Fail when a screenshot is one flat colour (a page that rendered nothing)."""
    from PIL import Image

    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None
    assert len(colours) > 50, f"the live view rendered almost nothing ({len(colours)} colours)"


def test_a_batch_posted_to_the_printed_ingest_url_is_accepted_and_published(
    dev: DevProcess,
) -> None:
    """``curl -X POST`` of a batch to the URL ``make dev`` prints answers 202 and is published."""
    import time
    import uuid

    now = int(time.time() * 1000)
    event_id = str(uuid.uuid4())
    batch = {
        "sent_at": now,
        "events": [
            {
                "evt": "open",
                "bot_id": "demo-bot",
                "client_id": "1234567890.1700000000",
                "event_id": event_id,
                "ts": now,
            }
        ],
    }
    request = urllib.request.Request(
        dev.ingest, data=json.dumps(batch).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202
        assert json.loads(response.read()) == {"accepted": 1, "rejected": []}

    def published() -> bool:
        return any(e["event_id"] == event_id and e["published_at"] for e in dev.flow()["events"])

    wait_until(published, timeout=60, what="the posted event to be seen on the topic")
