"""Loading ``ga4-mapping.yaml``: every problem is a ConfigError naming the file and key.

Names are checked here, at load time, for every catalogue event (and configured custom
names): a prefix that makes a name too long, a rename to a reserved name, or a bad
character stops the relay at start instead of failing sends later.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from loyjoy_relay.core.catalogue import CATALOGUE
from loyjoy_relay.core.ga4 import limits
from loyjoy_relay.core.ga4.mapping import (
    ADDED_PARAMS,
    PARAM_FIELDS,
    Family,
    Ga4Mapping,
    number_param_problem,
    text_param_problem,
)
from loyjoy_relay.core.ga4.routing import (
    ENV_NAME,
    MEASUREMENT_ID,
    SECRET_VERSION,
    Ga4Property,
    SecretRef,
)
from loyjoy_relay.errors import ConfigError

_KEYS = frozenset(
    {
        "version",
        "prefix",
        "rename",
        "families",
        "params",
        "engagement_time_msec",
        "session_id_fallback",
        "properties",
    }
)


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {problem}")


def load_mapping(path: Path, *, custom_names: Iterable[str] = ()) -> Ga4Mapping:
    """Read and check a mapping file; any problem raises ConfigError naming file and key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"GA4_MAPPING: cannot read {str(path)!r}: {error.strerror}") from None
    return parse_mapping(text, source=str(path), custom_names=custom_names)


def parse_mapping(text: str, *, source: str, custom_names: Iterable[str] = ()) -> Ga4Mapping:
    """Check the YAML text of a mapping file and build the mapping."""
    problems = _Problems(source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML: {error}") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise problems.fail("(top)", "expected a mapping of keys")
    for key in data:
        if key not in _KEYS:
            raise problems.fail(str(key), f"unknown key; known keys: {', '.join(sorted(_KEYS))}")
    if data.get("version", 1) != 1:
        raise problems.fail("version", "only version 1 is understood")
    prefix = _string(data.get("prefix", ""), "prefix", problems)
    renames = _renames(data.get("rename") or {}, problems)
    families = tuple(
        _family(i, entry, problems) for i, entry in enumerate(data.get("families") or [])
    )
    params = _params(data.get("params") or {}, families, problems)
    engagement = data.get("engagement_time_msec", 100)
    if isinstance(engagement, bool) or not isinstance(engagement, int) or engagement < 1:
        raise problems.fail(
            "engagement_time_msec", "must be a whole number of at least 1 (GA4 ignores 0)"
        )
    fallback = data.get("session_id_fallback", "day")
    if fallback not in ("day", "none"):
        raise problems.fail("session_id_fallback", "must be 'day' or 'none'")
    mapping = Ga4Mapping(
        source=source,
        prefix=prefix,
        renames=renames,
        families=families,
        params=params,
        engagement_time_msec=engagement,
        session_fallback=fallback == "day",
        properties=_properties(data.get("properties") or {}, problems),
    )
    _check_names(mapping, [*CATALOGUE, *custom_names], problems)
    return mapping


def _string(value: Any, key: str, problems: _Problems) -> str:
    if not isinstance(value, str):
        raise problems.fail(key, "must be text")
    return value


def _renames(value: Any, problems: _Problems) -> dict[str, str]:
    if not isinstance(value, dict):
        raise problems.fail("rename", "expected LoyJoy event: GA4 event pairs")
    renames = {}
    for evt, name in value.items():
        key = f"rename.{evt}"
        renames[str(evt)] = _string(name, key, problems)
        problem = limits.event_name_problem(renames[str(evt)])
        if problem is not None:
            raise problems.fail(key, f"{name!r} is not a valid GA4 event name: {problem[1]}")
    return renames


def _family(index: int, entry: Any, problems: _Problems) -> Family:
    key = f"families[{index}]"
    if not isinstance(entry, dict) or set(entry) - {"prefix", "event", "param", "min", "max"}:
        raise problems.fail(key, "expected prefix, event, param, min and max")
    try:
        family = Family(
            prefix=_string(entry["prefix"], f"{key}.prefix", problems),
            event=_string(entry["event"], f"{key}.event", problems),
            param=_string(entry["param"], f"{key}.param", problems),
            minimum=int(entry.get("min", 0)),
            maximum=int(entry.get("max", 10**9)),
        )
    except KeyError as error:
        raise problems.fail(f"{key}.{error.args[0]}", "is required") from None
    except (TypeError, ValueError):
        raise problems.fail(key, "min and max must be whole numbers") from None
    problem = limits.param_name_problem(family.param)
    if problem is not None:
        raise problems.fail(f"{key}.param", f"{family.param!r}: {problem[1]}")
    unfit = number_param_problem(family.param)
    if unfit is not None:
        raise problems.fail(f"{key}.param", unfit)
    return family


def _params(value: Any, families: tuple[Family, ...], problems: _Problems) -> dict[str, str]:
    if not isinstance(value, dict):
        raise problems.fail("params", "expected event field: GA4 param name pairs")
    taken = ADDED_PARAMS | {family.param for family in families}
    params = {}
    for field_name, param in value.items():
        key = f"params.{field_name}"
        if field_name not in PARAM_FIELDS:
            raise problems.fail(key, f"not an event field; choose from {', '.join(PARAM_FIELDS)}")
        param = _string(param, key, problems)
        problem = limits.param_name_problem(param)
        if problem is not None:
            raise problems.fail(key, f"{param!r} is not a valid GA4 param name: {problem[1]}")
        if param in taken:
            raise problems.fail(key, f"{param!r} is already set by the relay or a family")
        unfit = text_param_problem(param)
        if unfit is not None:
            raise problems.fail(key, unfit)
        taken |= {param}
        params[str(field_name)] = param
    return params


def _properties(value: Any, problems: _Problems) -> dict[str, Ga4Property]:
    if not isinstance(value, dict):
        raise problems.fail("properties", "expected bot id: property pairs")
    properties = {}
    for bot_id, entry in value.items():
        key = f"properties.{bot_id}"
        if not isinstance(entry, dict) or set(entry) - {
            "measurement_id",
            "api_secret_name",
            "api_secret_env",
        }:
            raise problems.fail(key, "expected measurement_id and api_secret_name or _env")
        measurement_id = entry.get("measurement_id")
        if not isinstance(measurement_id, str) or not MEASUREMENT_ID.match(measurement_id):
            raise problems.fail(f"{key}.measurement_id", "expected a measurement id like G-ABC123")
        name, env = entry.get("api_secret_name"), entry.get("api_secret_env")
        if (name is None) == (env is None):
            raise problems.fail(key, "give exactly one of api_secret_name and api_secret_env")
        if name is not None:
            if not isinstance(name, str) or not SECRET_VERSION.match(name):
                raise problems.fail(
                    f"{key}.api_secret_name", "expected projects/<p>/secrets/<name>/versions/<v>"
                )
            secret = SecretRef("secret_manager", name)
        else:
            if not isinstance(env, str) or not ENV_NAME.match(env):
                raise problems.fail(f"{key}.api_secret_env", "expected a variable name")
            secret = SecretRef("env", env)
        properties[str(bot_id)] = Ga4Property(measurement_id, secret)
    return properties


def _check_names(mapping: Ga4Mapping, names: Iterable[str], problems: _Problems) -> None:
    for evt in names:
        name, _ = mapping.event_name(evt)
        problem = limits.event_name_problem(name)
        if problem is not None:
            raise problems.fail(
                _key_for(mapping, evt),
                f"LoyJoy event {evt!r} would be sent as {name!r}: {problem[1]} Rename it.",
            )
        missing = mapping.missing_required_params(evt)
        if missing:
            raise problems.fail(
                _key_for(mapping, evt),
                f"LoyJoy event {evt!r} would be sent as GA4's recommended event {name!r}, "
                f"which requires {', '.join(missing)} (events reference, {name}); a chat "
                "event does not carry it, so GA4 would refuse every one. Rename it.",
            )


def _key_for(mapping: Ga4Mapping, evt: str) -> str:
    """The mapping file's key that decides the GA4 name of ``evt``."""
    if evt in mapping.renames:
        return f"rename.{evt}"
    family = next((f for f in mapping.families if f.number(evt) is not None), None)
    if family is not None:
        return f"families[{mapping.families.index(family)}]"
    return "prefix" if mapping.prefix or evt in CATALOGUE else f"custom event {evt!r}"
