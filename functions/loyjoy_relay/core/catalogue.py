"""The LoyJoy event catalogue: every documented event name, classified.

The names and meanings come from LoyJoy's tracking-integration page (145 distinct names).
The classification is ours: it tells the consent engine which events are profiling
decisions and the privacy team which events carry personal data or come from the back
office. LoyJoy says its names "do not form a forever constant API", so sites may allow
extra names by configuration (``CUSTOM_EVENT_NAMES``); those are classified ``CUSTOM``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """What kind of thing an event reports."""

    LIFECYCLE = "lifecycle"  # the widget and the process flow: load, open, start, end
    CONVERSATION = "conversation"  # questions, answers, intents, jumps, links, live chat
    IDENTITY = "identity"  # sign-up, sign-in, customer records
    CONSENT = "consent"  # opt-in asked, given, rejected or withdrawn
    PERSONAL_DATA = "personal_data"  # the visitor typed personal data (name, phone, ...)
    PLATFORM = "platform"  # channel and device the chat ran on
    REWARD = "reward"  # giveaways, prizes, codes, loyalty points
    MESSAGING = "messaging"  # mails, campaign and welcome messages sent by LoyJoy
    BACK_OFFICE = "back_office"  # actions in the LoyJoy back end, not by the visitor
    CUSTOM = "custom"  # a site's own name, allowed by configuration


class ConsentAction(StrEnum):
    """What a consent event does to its topic."""

    ASK = "ask"
    GRANT = "grant"
    REVOKE = "revoke"


class ConsentTopic(StrEnum):
    """The opt-in a consent event is about. Only ``PROFILING`` drives GA4 forwarding."""

    PROFILING = "profiling"
    NEWSLETTER = "newsletter"
    REMINDER = "reminder"
    SMS = "sms"
    WEB_PUSH = "web_push"
    TERMS = "terms"


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One event name with its classification."""

    name: str
    category: Category
    consent_topic: ConsentTopic | None = None
    consent_action: ConsentAction | None = None

    @property
    def is_personal_data(self) -> bool:
        """True when the event means the visitor entered personal data."""
        return self.category is Category.PERSONAL_DATA


def _consent_family(topic: ConsentTopic, *, sms: bool = False) -> list[CatalogueEntry]:
    prefix = topic.value
    entries = [
        CatalogueEntry(f"{prefix}_single_opt_in_asked", Category.CONSENT, topic, ConsentAction.ASK),
        CatalogueEntry(f"{prefix}_single_opt_in", Category.CONSENT, topic, ConsentAction.GRANT),
        CatalogueEntry(
            f"{prefix}_single_opt_in_rejected", Category.CONSENT, topic, ConsentAction.REVOKE
        ),
        CatalogueEntry(f"{prefix}_double_opt_in", Category.CONSENT, topic, ConsentAction.GRANT),
    ]
    if not sms:
        entries.append(
            CatalogueEntry(f"{prefix}_opt_out", Category.CONSENT, topic, ConsentAction.REVOKE)
        )
    return entries


_PLAIN: dict[Category, tuple[str, ...]] = {
    Category.LIFECYCLE: (
        "hide",
        "load",
        "open",
        "show",
        "start",
        "end",
        "interaction",
        "reset",
        "restart",
        "screen_time",
        "home_view_opened",
        "home_view_screen_time",
        "sub_process_visited",
        "participant_bpmn_process",
        "proceed_confirmed",
        "process_liked",
        "story_read",
    ),
    Category.CONVERSATION: (
        "data_collection_answer",
        "data_collection_answer_idontknow",
        "data_collection_question",
        "data_collection_question_answered",
        "data_collection_variable_set",
        "intent_evaluated",
        "intent_matched",
        "jump_auto",
        "jump_decision_question",
        "link_clicked",
        "live_chat_duration",
        "live_chat_ended",
        "live_chat_started",
        "handover_email_sent",
        "nps_survey_free_text_answered",
        *(f"nps_survey_score_{score}" for score in range(11)),
        "questionnaire_question",
        "quiz_answer",
        "quiz_answer_correct",
        "quiz_answer_freetext",
        "quiz_answer_incorrect",
        "quiz_answer_not_freetext",
        "quiz_question",
        "variable_set",
        "appointment_created",
        "audio_message_requested",
        "advent_calendar_door_asked",
        "advent_calendar_door_opened",
    ),
    Category.IDENTITY: (
        "sign_in",
        "sign_in_email_address_blocked",
        "sign_in_ip_address_blocked",
        "sign_in_pin_failed",
        "sign_in_pin_mail_sent",
        "sign_in_pin_succeeded",
        "sign_out",
        "sign_up",
        "sign_up_requested",
        "customer_created",
        "customer_updated",
    ),
    Category.PERSONAL_DATA: (
        "birthdate_entered",
        "firstname_entered",
        "lastname_entered",
        "gender_entered",
        "gender_diverse",
        "gender_female",
        "gender_male",
        "password_entered",
        "phone_number_entered",
        "postal_address_confirmed",
        "postal_address_updated",
        "audio_message_uploaded",
        "snapshot_image_uploaded",
        "snapshot_barcode_scanned",
    ),
    Category.PLATFORM: (
        "platform_facebook",
        "platform_rest",
        "platform_viber",
        "platform_wechat",
        "platform_whatsapp",
        "user_agent_desktop",
        "user_agent_mobile",
    ),
    Category.REWARD: (
        "code_entered",
        "code_entered_correct",
        "code_entered_incorrect",
        "code_registered",
        "coupon_code_issued",
        "loyalty_first_received",
        "loyalty_points_emitted",
        "loyalty_points_spent",
        "loyalty_referral",
        "loyalty_reward_redeemed",
        "main_prize_sent",
        "participant_giveaway",
        "participation",
        "prize_details_sent",
        "prize_sent",
        "reward_redeemed",
        "win_lost",
        "win_participant_bpmn_process",
        "win_participant_bpmn_sub_process",
        "win_participation",
        "win_won",
    ),
    Category.MESSAGING: (
        "campaign_message_sent",
        "mail_sent",
        "mail_to_customer_sent",
        "welcome_sent",
    ),
    Category.BACK_OFFICE: (
        "coupon_code_uploaded",
        "customer_deleted",
        "customer_purged",
        "pub_sub_failed",
        "pub_sub_published",
    ),
}

_CONSENT: tuple[CatalogueEntry, ...] = (
    *_consent_family(ConsentTopic.PROFILING),
    *_consent_family(ConsentTopic.NEWSLETTER),
    *_consent_family(ConsentTopic.REMINDER),
    *_consent_family(ConsentTopic.SMS, sms=True),
    CatalogueEntry("sms_opt_in_code_sent", Category.CONSENT, ConsentTopic.SMS, ConsentAction.ASK),
    *_consent_family(ConsentTopic.WEB_PUSH, sms=True),
    CatalogueEntry(
        "web_push_opt_in_subscription_request",
        Category.CONSENT,
        ConsentTopic.WEB_PUSH,
        ConsentAction.ASK,
    ),
    CatalogueEntry(
        "web_push_subscription_gone", Category.CONSENT, ConsentTopic.WEB_PUSH, ConsentAction.REVOKE
    ),
    CatalogueEntry("terms_accepted", Category.CONSENT, ConsentTopic.TERMS, ConsentAction.GRANT),
    CatalogueEntry("terms_rejected", Category.CONSENT, ConsentTopic.TERMS, ConsentAction.REVOKE),
)

CATALOGUE: dict[str, CatalogueEntry] = {
    entry.name: entry
    for entry in (
        *(CatalogueEntry(name, category) for category, names in _PLAIN.items() for name in names),
        *_CONSENT,
    )
}


def lookup(name: str, custom_names: frozenset[str] = frozenset()) -> CatalogueEntry | None:
    """The entry for ``name``; a configured custom name gets a ``CUSTOM`` entry; else None."""
    entry = CATALOGUE.get(name)
    if entry is None and name in custom_names:
        return CatalogueEntry(name, Category.CUSTOM)
    return entry


def profiling_events(action: ConsentAction) -> frozenset[str]:
    """The names of the profiling consent events that perform ``action``."""
    return frozenset(
        entry.name
        for entry in CATALOGUE.values()
        if entry.consent_topic is ConsentTopic.PROFILING and entry.consent_action is action
    )
