"""The privacy team's consent rules: the schema of ``infra/consent-rules.yaml``.

Pure: validation only. The YAML file and its line numbers are handled by
:mod:`loyjoy_relay.adapters.rules_file`. Every check here is strict on purpose: an
unknown key, an unknown event name or a contradictory list is a mistake in a reviewed
privacy file, so it is refused rather than guessed at (see ``docs/consent.md``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from loyjoy_relay.core.catalogue import ConsentAction, lookup, profiling_events
from loyjoy_relay.core.consent.urls import (
    DEFAULT_ANONYMIZED_URL_PARAMS,
    IDENTIFYING_PARAMS,
    pattern_matches,
)

State = Literal["granted", "denied"]
Action = Literal["forward", "anonymize", "drop"]
Signal = Literal["granted", "denied", "follow"]
SiteConsentUse = Literal["respect", "ignore"]
# GA4's user_location and device fields the relay can fill (never ``city``, which it never
# derives, nor a device's ``model`` or ``brand``).
LocationField = Literal["continent_id", "subcontinent_id", "country_id", "region_id"]
DeviceField = Literal[
    "category",
    "operating_system",
    "operating_system_version",
    "browser",
    "browser_version",
    "language",
    "screen_resolution",
]

_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)


def _custom_names(info: ValidationInfo) -> frozenset[str]:
    context = info.context if isinstance(info.context, dict) else {}
    return frozenset(context.get("custom_events", ()))


def _known_event(name: str, info: ValidationInfo) -> str:
    if lookup(name, _custom_names(info)) is None:
        raise PydanticCustomError(
            "unknown_event",
            "'{event}' is not a LoyJoy event name (nor listed in custom_events)",
            {"event": name},
        )
    return name


def _catalogue_name(name: str) -> str:
    if lookup(name) is not None:
        raise PydanticCustomError(
            "not_custom",
            "'{event}' is already a LoyJoy event name; list only a site's own names here",
            {"event": name},
        )
    return name


def _profiling_opt_in(name: str) -> str:
    allowed = profiling_events(ConsentAction.GRANT)
    if name not in allowed:
        raise PydanticCustomError(
            "not_a_grant",
            "'{event}' cannot grant profiling consent; only "
            + " and ".join(sorted(allowed))
            + " can",
            {"event": name},
        )
    return name


def _not_an_opt_in(name: str) -> str:
    entry = lookup(name)
    if entry is not None and entry.consent_action is ConsentAction.GRANT:
        raise PydanticCustomError(
            "grant_as_revoke",
            "'{event}' is an opt-in: it can only grant, never revoke "
            "(no event may be in both grant and revoke)",
            {"event": name},
        )
    return name


_URL_PARAM_PATTERN = re.compile(r"^[A-Za-z0-9_.\-\[\]]{0,64}\*?$")


def _url_param_pattern(pattern: str) -> str:
    if not pattern or not _URL_PARAM_PATTERN.match(pattern):
        raise PydanticCustomError(
            "url_param_pattern",
            "'{pattern}' is not a query parameter name, nor a prefix ending in * (like utm_*)",
            {"pattern": pattern},
        )
    return pattern


def _keeps_no_identifier(pattern: str) -> str:
    matched = sorted(name for name in IDENTIFYING_PARAMS if pattern_matches(pattern, name))
    if matched or pattern_matches(pattern, "_ga_x") or pattern.lower().startswith("_ga_"):
        raise PydanticCustomError(
            "identifying_url_param",
            "'{pattern}' would keep identifying URL parameters ({names}) in anonymized events",
            {"pattern": pattern, "names": ", ".join(matched[:5]) or "_ga_<stream>"},
        )
    return pattern


EventName = Annotated[str, AfterValidator(_known_event)]
GrantName = Annotated[str, AfterValidator(_known_event), AfterValidator(_profiling_opt_in)]
RevokeName = Annotated[str, AfterValidator(_known_event), AfterValidator(_not_an_opt_in)]
CustomName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$")]
# A query parameter name, or a prefix ending in "*" (``utm_*``).
UrlParamPattern = Annotated[
    str, AfterValidator(_url_param_pattern), AfterValidator(_keeps_no_identifier)
]


class Ga4Consent(BaseModel):
    """Consent Mode v2 signals sent with forwarded events; a signal left out is denied."""

    model_config = _STRICT

    ad_user_data: Signal = "denied"
    ad_personalization: Signal = "denied"


class ContextFields(BaseModel):
    """The ``user_location`` and ``device`` fields events of one outcome may carry; a list
    left out carries nothing."""

    model_config = _STRICT

    user_location: list[LocationField] = Field(default_factory=list)
    device: list[DeviceField] = Field(default_factory=list)

    def allows(self, other: ContextFields) -> bool:
        """True when every field ``other`` lists is listed here too."""
        return set(other.user_location) <= set(self.user_location) and set(other.device) <= set(
            self.device
        )


def _default_ga4_context() -> Ga4Context:
    return Ga4Context(
        forward=ContextFields(
            user_location=["continent_id", "subcontinent_id", "country_id", "region_id"],
            device=[
                "category",
                "operating_system",
                "operating_system_version",
                "browser",
                "browser_version",
                "language",
                "screen_resolution",
            ],
        ),
        # The country (its continent and sub-continent follow from it) and the category.
        anonymize=ContextFields(
            user_location=["continent_id", "subcontinent_id", "country_id"], device=["category"]
        ),
    )


class Ga4Context(BaseModel):
    """How much derived context (where, what device) forwarded and anonymized events carry;
    an outcome left out carries none. An anonymized event never carries more than a
    forwarded one."""

    model_config = _STRICT

    forward: ContextFields = Field(default_factory=ContextFields)
    anonymize: ContextFields = Field(default_factory=ContextFields)

    @field_validator("anonymize")
    @classmethod
    def _anonymize_within_forward(
        cls, anonymize: ContextFields, info: ValidationInfo
    ) -> ContextFields:
        forward = info.data.get("forward")
        if isinstance(forward, ContextFields) and not forward.allows(anonymize):
            extra = sorted(
                (set(anonymize.user_location) - set(forward.user_location))
                | (set(anonymize.device) - set(forward.device))
            )
            raise PydanticCustomError(
                "anonymize_beyond_forward",
                "anonymized events may not carry more than forwarded ones: '{field}' is "
                "not listed under forward",
                {"field": extra[0]},
            )
        return anonymize


class _Policy(BaseModel):
    """The keys a bot may override (every key of the file but version, custom_events, bots)."""

    model_config = _STRICT

    default: State
    grant: list[GrantName]
    revoke: list[RevokeName]
    granted: Action
    denied: Action
    anonymous_always: list[EventName] = Field(default_factory=list)
    never: list[EventName] = Field(default_factory=list)
    ga4_consent: Ga4Consent = Field(default_factory=Ga4Consent)
    anonymized_url_params: list[UrlParamPattern] = Field(
        default_factory=lambda: list(DEFAULT_ANONYMIZED_URL_PARAMS)
    )
    ga4_context: Ga4Context = Field(default_factory=_default_ga4_context)
    site_consent: SiteConsentUse = "respect"

    @field_validator("revoke")
    @classmethod
    def _not_in_both_lists(cls, names: list[str], info: ValidationInfo) -> list[str]:
        for name in names:
            if name in info.data.get("grant", ()):
                raise PydanticCustomError(
                    "grant_and_revoke",
                    "'{event}' is listed in both grant and revoke",
                    {"event": name},
                )
        return names


class BotOverride(BaseModel):
    """Keys that replace the file's own for one bot; keys not listed keep the file's value."""

    model_config = _STRICT

    default: State | None = None
    grant: list[GrantName] | None = None
    revoke: list[RevokeName] | None = None
    granted: Action | None = None
    denied: Action | None = None
    anonymous_always: list[EventName] | None = None
    never: list[EventName] | None = None
    ga4_consent: Ga4Consent | None = None
    anonymized_url_params: list[UrlParamPattern] | None = None
    ga4_context: Ga4Context | None = None
    site_consent: SiteConsentUse | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _no_empty_values(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError(
                "empty_override", "empty; give a value, or leave the key out to keep the file's"
            )
        return value


@dataclass(frozen=True, slots=True)
class BotPolicy:
    """The rules that apply to the events of one bot, overrides resolved."""

    default: State
    grant: frozenset[str]
    revoke: frozenset[str]
    granted: Action
    denied: Action
    anonymous_always: frozenset[str]
    never: frozenset[str]
    ad_user_data: Signal
    ad_personalization: Signal
    anonymized_url_params: tuple[str, ...] = DEFAULT_ANONYMIZED_URL_PARAMS
    ga4_context: Ga4Context = field(default_factory=_default_ga4_context)
    site_consent: SiteConsentUse = "respect"


class ConsentRules(_Policy):
    """The whole rules file: the policy, a site's custom event names, per-bot overrides."""

    version: Literal[1]
    custom_events: list[Annotated[CustomName, AfterValidator(_catalogue_name)]] = Field(
        default_factory=list
    )
    bots: dict[Annotated[str, Field(min_length=1)], BotOverride] = Field(default_factory=dict)
    # Resolved per-bot policies, made once per bot: the rules are immutable.
    _policies: dict[str, BotPolicy] = PrivateAttr(default_factory=dict)

    @field_validator("bots")
    @classmethod
    def _overrides_make_valid_policies(
        cls, bots: dict[str, BotOverride], info: ValidationInfo
    ) -> dict[str, BotOverride]:
        for bot_id, override in bots.items():
            merged = {**info.data, **override.model_dump(exclude_none=True)}
            overlap = set(merged.get("grant", ())) & set(merged.get("revoke", ()))
            if overlap:
                raise PydanticCustomError(
                    "grant_and_revoke",
                    "for bot '{bot}', '{event}' ends up in both grant and revoke",
                    {"bot": bot_id, "event": sorted(overlap)[0]},
                )
        return bots

    @classmethod
    def from_data(cls, data: Any) -> ConsentRules:
        """Validate parsed YAML; names in its ``custom_events`` count as known events."""
        custom = data.get("custom_events") if isinstance(data, dict) else None
        names = (
            [name for name in custom if isinstance(name, str)] if isinstance(custom, list) else []
        )
        return cls.model_validate(data, context={"custom_events": names})

    def for_bot(self, bot_id: str) -> BotPolicy:
        """The policy for one bot's events: the file's keys, replaced by its override."""
        policy = self._policies.get(bot_id if bot_id in self.bots else "")
        if policy is None:
            policy = self._resolve(bot_id)
            self._policies[bot_id if bot_id in self.bots else ""] = policy
        return policy

    def _resolve(self, bot_id: str) -> BotPolicy:
        override = self.bots.get(bot_id)
        fields: dict[str, Any] = {
            name: getattr(self, name) for name in _Policy.model_fields if name != "ga4_consent"
        }
        consent = self.ga4_consent
        if override is not None:
            for name in override.model_fields_set:
                value = getattr(override, name)
                if value is None:
                    continue
                if name == "ga4_consent":
                    consent = value
                else:
                    fields[name] = value
        return BotPolicy(
            default=fields["default"],
            grant=frozenset(fields["grant"]),
            revoke=frozenset(fields["revoke"]),
            granted=fields["granted"],
            denied=fields["denied"],
            anonymous_always=frozenset(fields["anonymous_always"]),
            never=frozenset(fields["never"]),
            ad_user_data=consent.ad_user_data,
            ad_personalization=consent.ad_personalization,
            anonymized_url_params=tuple(fields["anonymized_url_params"]),
            ga4_context=fields["ga4_context"],
            site_consent=fields["site_consent"],
        )

    @functools.cached_property
    def fingerprint(self) -> str:
        """A short hash of the rules' meaning, logged with every decision."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(canonical).hexdigest()[:12]

    @property
    def rules_version(self) -> str:
        """``v<version>-<fingerprint>``: which rules decided, for the audit trail."""
        return f"v{self.version}-{self.fingerprint}"
