"""The rules file: the shipped file is valid, and each kind of mistake is named by its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from loyjoy_relay.adapters.rules_file import RulesInvalid, check_rules_text, parse_rules
from loyjoy_relay.cli.main import main

from tests.consent.conftest import SHIPPED_RULES

VALID = """\
version: 1
default: denied
grant: [profiling_single_opt_in, profiling_double_opt_in]
revoke: [profiling_opt_out, profiling_single_opt_in_rejected]
granted: forward
denied: drop
"""

# (what is wrong, the text appended to VALID or replacing a line, expected line, words)
BROKEN = [
    ("unknown top-level key", VALID + "colour: red\n", 7, "colour: unknown key"),
    ("unknown event name", VALID + "never: [load, not_an_event]\n", 7, "not_an_event"),
    (
        "event in both grant and revoke",
        VALID.replace("revoke: [", "revoke: [profiling_double_opt_in, "),
        4,
        "both grant and revoke",
    ),
    ("bad action", VALID.replace("denied: drop", "denied: delete"), 6, "denied"),
    ("bad default", VALID.replace("default: denied", "default: maybe"), 2, "default"),
    (
        "a non-profiling event cannot grant",
        VALID.replace("grant: [", "grant: [newsletter_single_opt_in, "),
        3,
        "cannot grant",
    ),
    (
        "an opt-in cannot revoke",
        VALID.replace("revoke: [", "revoke: [profiling_single_opt_in, "),
        4,
        "opt-in",
    ),
    ("bad Consent Mode signal", VALID + "ga4_consent:\n  ad_user_data: maybe\n", 8, "ad_user_data"),
    (
        "unknown Consent Mode key",
        VALID + "ga4_consent:\n  analytics_storage: denied\n",
        8,
        "unknown key",
    ),
    (
        "unknown bot override key",
        VALID + "bots:\n  b1:\n    default: granted\n    colour: red\n",
        10,
        "bots.b1.colour",
    ),
    ("version in a bot override", VALID + "bots:\n  b1:\n    version: 1\n", 9, "unknown key"),
    (
        "unknown event in a bot override",
        VALID + "bots:\n  b1:\n    never:\n      - nope\n",
        10,
        "nope",
    ),
    (
        "an override that puts an event in both lists",
        VALID + "bots:\n  b1:\n    revoke: [profiling_double_opt_in]\n",
        9,
        "both grant and revoke",
    ),
    ("empty bot override value", VALID + "bots:\n  b1:\n    default:\n", 9, "empty"),
    ("duplicate key", VALID + "default: granted\n", 7, "key given twice"),
    ("missing key", VALID.replace("granted: forward\n", ""), 1, "granted: Field required"),
    ("wrong version", VALID.replace("version: 1", "version: 2"), 1, "version"),
    ("YAML syntax error", VALID + "never: [load\n", 8, "not valid YAML"),
    ("custom name that is a LoyJoy name", VALID + "custom_events: [load]\n", 7, "already"),
    (
        "a click id kept in anonymized URLs",
        VALID + "anonymized_url_params: [utm_*, gclid]\n",
        7,
        "would keep identifying URL parameters (gclid)",
    ),
    ("every parameter kept", VALID + "anonymized_url_params: ['*']\n", 7, "_gl"),
    ("a pattern that keeps user ids", VALID + "anonymized_url_params: [u*]\n", 7, "uid"),
    ("GA4 session cookies kept", VALID + "anonymized_url_params: [_ga_*]\n", 7, "_ga_"),
    ("a pattern that is not a name", VALID + "anonymized_url_params: ['a=b']\n", 7, "not a query"),
    (
        "an override keeping a click id",
        VALID + "bots:\n  b1:\n    anonymized_url_params: [fbclid]\n",
        9,
        "fbclid",
    ),
]


def test_shipped_rules_are_valid_and_conservative() -> None:
    """The shipped file loads, denies by default, and drops what is not consented."""
    rules = parse_rules(SHIPPED_RULES.read_text())
    policy = rules.for_bot("any-bot")
    assert (policy.default, policy.granted, policy.denied) == ("denied", "forward", "drop")
    assert policy.ad_personalization == "denied"
    assert rules.bots == {}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_each_mistake_is_reported_at_its_line(text: str, line: int, words: str) -> None:
    """A broken file yields a problem at the right line whose message names the mistake."""
    rules, problems = check_rules_text(text)
    assert rules is None
    assert any(problem.line == line and words in problem.message for problem in problems), problems


def test_custom_names_may_revoke_or_be_never_sent_but_not_grant() -> None:
    """A listed custom name is a known event for revoke and never, and still cannot grant."""
    custom = VALID + "custom_events: [site_forget_me]\nnever: [site_forget_me]\n"
    assert check_rules_text(custom)[1] == []
    granting = custom.replace("grant: [", "grant: [site_forget_me, ")
    assert any("cannot grant" in problem.message for problem in check_rules_text(granting)[1])


def test_parse_rules_raises_a_config_error_listing_problems() -> None:
    """parse_rules refuses a broken file with every problem in the exception."""
    with pytest.raises(RulesInvalid) as raised:
        parse_rules(VALID + "colour: red\nshade: dark\n", "rules.yaml")
    assert [problem.line for problem in raised.value.problems] == [7, 8]
    assert "rules.yaml" in str(raised.value)


def test_bot_override_replaces_only_listed_keys() -> None:
    """A bot's override changes its listed keys and keeps the others, for that bot only."""
    rules = parse_rules(VALID + "bots:\n  b1: {default: granted, never: [load]}\n")
    overridden, plain = rules.for_bot("b1"), rules.for_bot("b2")
    assert (overridden.default, overridden.never, overridden.denied) == (
        "granted",
        frozenset({"load"}),
        "drop",
    )
    assert (plain.default, plain.never) == ("denied", frozenset())


def test_anonymized_url_params_default_to_utm_and_may_be_overridden_per_bot() -> None:
    """Without the key anonymized URLs keep utm_* parameters; a bot may keep others."""
    rules = parse_rules(VALID + "bots:\n  b1: {anonymized_url_params: [utm_source, lang]}\n")
    assert rules.for_bot("b2").anonymized_url_params == ("utm_*",)
    assert rules.for_bot("b1").anonymized_url_params == ("utm_source", "lang")


def test_rules_version_changes_with_meaning_only() -> None:
    """The audit's rules version ignores comments and layout but follows any rule change."""
    base = parse_rules(VALID).rules_version
    assert parse_rules("# a comment\n" + VALID).rules_version == base
    assert parse_rules(VALID.replace("denied: drop", "denied: anonymize")).rules_version != base


def test_rules_check_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``rules check`` exits 0 with a summary, or 2 printing each problem with its line."""
    assert main(["rules", "check", str(SHIPPED_RULES)]) == 0
    summary = capsys.readouterr().out
    assert "counts as denied" in summary
    assert "dropped" in summary
    assert "only the query parameters utm_*" in summary
    broken = tmp_path / "rules.yaml"
    broken.write_text(VALID + "never: [load, not_an_event]\n")
    assert main(["rules", "check", str(broken)]) == 2
    out = capsys.readouterr().out
    assert f"{broken}:7:" in out
    assert "not_an_event" in out


def test_rules_check_of_a_missing_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``rules check`` on a file that cannot be read exits 2 and says so."""
    assert main(["rules", "check", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot be read" in capsys.readouterr().err
