"""``loyjoy-relay rules check FILE``: validate a consent rules file and say what it does."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from loyjoy_relay.adapters.rules_file import check_rules_text
from loyjoy_relay.core.consent.rules import BotPolicy, ConsentRules, ContextFields

_ACTIONS = {
    "forward": "forwarded with the visitor's own identifiers",
    "anonymize": "sent anonymized (a one-off random id, no session or user id)",
    "drop": "dropped (not sent)",
}
_SIGNALS = {
    "follow": "follows the visitor's profiling consent",
    "granted": "is always granted",
    "denied": "is always denied",
}


def register(subparsers: Any) -> None:
    """Add ``rules check``."""
    rules = subparsers.add_parser("rules", help="work with consent rules files")
    commands = rules.add_subparsers(dest="rules_command", required=True)
    check = commands.add_parser("check", help="validate a consent rules file")
    check.add_argument("file", type=Path, help="the rules file, e.g. infra/consent-rules.yaml")
    check.set_defaults(handler=run_check)


def _names(names: frozenset[str]) -> str:
    return ", ".join(sorted(names)) if names else "no event"


def _policy_sentences(policy: BotPolicy) -> list[str]:
    return [
        f"Before any profiling decision a visitor counts as {policy.default}.",
        f"Profiling is granted by {_names(policy.grant)} (or by a consent stamp that names "
        f"one of them) and revoked by {_names(policy.revoke)} (or by any stamp that says "
        "denied); the latest decision at or before an event counts, and on equal times a "
        "revocation wins. A grant counts only for the bot it was given in; a revocation "
        "counts for every bot of the visitor.",
        f"Events of a granted visitor are {_ACTIONS[policy.granted]}; events of a denied "
        f"visitor are {_ACTIONS[policy.denied]}.",
        f"Always anonymized: {_names(policy.anonymous_always)}. "
        f"Never sent: {_names(policy.never)}.",
        f"On forwarded events, ad_user_data {_SIGNALS[policy.ad_user_data]} and "
        f"ad_personalization {_SIGNALS[policy.ad_personalization]}.",
        "Web addresses in anonymized events keep scheme, host and path and only the query "
        f"parameters {', '.join(policy.anonymized_url_params) or '(none)'}; never a fragment, "
        "and none of the visitor's identifiers.",
        f"Forwarded events carry {_context(policy.ga4_context.forward)}; anonymized ones "
        f"{_context(policy.ga4_context.anonymize)}.",
        "The site's own consent banner is "
        + (
            "respected: its analytics denial makes an event denied and its ad signal "
            "denials deny those signals; it never grants."
            if policy.site_consent == "respect"
            else "ignored."
        ),
    ]


def _context(fields: ContextFields) -> str:
    where = ", ".join(fields.user_location) or "nothing"
    device = ", ".join(fields.device) or "nothing"
    return f"user_location {where} and device {device}"


def summary(rules: ConsentRules) -> str:
    """One paragraph saying, in plain words, what the rules do."""
    sentences = [
        f"Consent rules {rules.rules_version}.",
        *_policy_sentences(rules.for_bot("")),
        "E-mail addresses and phone numbers are removed from every event in every case, "
        "however they are encoded.",
    ]
    if rules.custom_events:
        sentences.append(f"Custom event names allowed: {', '.join(rules.custom_events)}.")
    for bot_id, override in rules.bots.items():
        changed = ", ".join(
            f"{key}: {value}" for key, value in override.model_dump(exclude_unset=True).items()
        )
        sentences.append(f"Bot {bot_id} overrides {changed or 'nothing'}.")
    if not rules.bots:
        sentences.append("No bot has overrides.")
    return " ".join(sentences)


def run_check(args: argparse.Namespace) -> int:
    """Print each problem with its line (exit 2), or a summary of the rules (exit 0)."""
    path: Path = args.file
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"{path}: cannot be read: {error}", file=sys.stderr)
        return 2
    rules, problems = check_rules_text(text)
    if rules is None:
        for problem in problems:
            print(f"{path}:{problem.line}: {problem.message}")
        print(f"{path}: {len(problems)} problem(s); the rules cannot be used", file=sys.stderr)
        return 2
    print(summary(rules))
    return 0
