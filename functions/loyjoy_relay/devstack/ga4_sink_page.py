"""The GA4 sink's ``GET /`` page: what arrived, newest first, readable by a person."""

from __future__ import annotations

import json
import time
from html import escape
from typing import Any

_STYLE = """
body{font:14px system-ui,sans-serif;margin:2rem;color:#222}
h1{font-size:1.3rem} table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
code{background:#f4f4f4;padding:0 .2rem} details pre{background:#f8f8f8;padding:.5rem}
.muted{color:#777}
"""


def _event_names(body: Any) -> str:
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list):
        return "<span class=muted>(no events array)</span>"
    names = [str(e.get("name")) if isinstance(e, dict) else "?" for e in events]
    return f"{len(names)}: " + ", ".join(f"<code>{escape(name)}</code>" for name in names)


def render_page(records: list[dict[str, Any]]) -> str:
    """An HTML page listing ``records`` (the ``GET /events`` shape), refreshing itself."""
    rows = []
    for record in reversed(records):
        when = time.strftime("%H:%M:%S", time.localtime(record["received_at"] / 1000))
        body = record["body"]
        client = body.get("client_id", "") if isinstance(body, dict) else ""
        pretty = json.dumps(body, indent=2, ensure_ascii=False)
        rows.append(
            "<tr>"
            f"<td>{escape(when)}</td>"
            f"<td><code>{escape(record['path'])}</code></td>"
            f"<td>{escape(str(record['measurement_id']))}</td>"
            f"<td>{escape(str(client))}</td>"
            f"<td>{_event_names(body)}"
            f"<details><summary>body</summary><pre>{escape(pretty)}</pre></details></td>"
            "</tr>"
        )
    table = (
        "<table><tr><th>time</th><th>path</th><th>measurement id</th><th>client</th>"
        "<th>events</th></tr>" + "".join(rows) + "</table>"
        if rows
        else "<p class=muted>Nothing has arrived yet.</p>"
    )
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        '<meta http-equiv="refresh" content="2">'
        f"<title>GA4 sink</title><style>{_STYLE}</style></head><body>"
        f"<h1>GA4 sink: {len(records)} request(s) received</h1>"
        "<p class=muted>The local stand-in for Google Analytics 4. JSON at "
        "<a href=/events>/events</a>.</p>"
        f"{table}</body></html>"
    )
