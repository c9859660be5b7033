"""What people are told, in English and Finnish: templates and the words for codes.

A template's placeholders are :class:`notification.content.SafeFacts` fields
and the phrases built from them here: ``schedule`` (a whole sentence, so an
unscheduled job reads "It has no time scheduled yet." and never "not
scheduled to not scheduled"), and ``status_text``, ``priority_text``,
``reason_text`` and ``secret_kind_text`` (a code such as ``in_progress`` or
``unable_no_access`` in words). Finnish sentences are built so that no
placeholder needs inflecting. ``tests/test_content.py`` renders every template
in every language for every event, reason and status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: The languages a person can choose (``NotificationPreferences.language``).
LANGUAGES: Final = ("en", "fi")
DEFAULT_LANGUAGE: Final = "en"


@dataclass(frozen=True)
class Template:
    subject: str
    body: str
    #: An app path, itself a template.
    link: str = ""


@dataclass(frozen=True)
class Words:
    """One language's words for the codes a message may carry."""

    scheduled: str
    unscheduled: str
    statuses: dict[str, str]
    priorities: dict[str, str]
    reasons: dict[str, str]
    secret_kinds: dict[str, str]
    #: Shown when a work order's event carried no reference (published before there were any).
    no_reference: str
    #: What a rotation task asks to change (a code kind, or a physical key's lock).
    rotation_subjects: dict[str, str]
    #: Why a rotation task was opened.
    rotation_reasons: dict[str, str]


_WORK_ORDER = "/work-orders/${work_order_id}"

ENGLISH = Words(
    scheduled="It is scheduled for ${scheduled_start} to ${scheduled_end}.",
    unscheduled="It has no time scheduled yet.",
    statuses={
        "new": "new",
        "scheduled": "scheduled",
        "assigned": "assigned",
        "in_progress": "in progress",
        "completed": "completed",
        "cancelled": "cancelled",
    },
    priorities={"low": "low", "normal": "normal", "high": "high", "urgent": "urgent"},
    reasons={
        "user_deactivated": "the assignee's account was deactivated",
        "dpa_inactive": "their organisation's data-processing agreement is no longer active",
        "assignee_not_in_area": "the assignee does not work in the site's new area",
        "invalid_assignee": "the assignee can no longer take the job",
        "unable_no_access": "they could not get into the site",
        "unable_customer_absent": "the customer was not there",
        "unable_parts_needed": "parts are needed first",
        "unable_unsafe": "it is not safe to work there",
        "unable_other": "they give the reason in their notes",
    },
    secret_kinds={
        "door_code": "door code",
        "alarm_code": "alarm code",
        "key_safe_code": "key safe code",
    },
    no_reference="(no reference)",
    rotation_subjects={
        "door_code": "door code",
        "alarm_code": "alarm code",
        "key_safe_code": "key safe code",
        "lock": "lock",
    },
    rotation_reasons={
        "revealed_by_leaver": "someone who has left revealed it",
        "revealed_by_organization": (
            "a subcontractor whose data-processing agreement ended revealed it"
        ),
        "break_glass": "it was revealed by break-glass",
        "overdue": "it is older than the tenant's policy allows",
        "key_lost": "a key to it was lost",
        "key_not_returned": "a key to it was not returned",
        "other": "it may be known to someone who should not know it",
    },
)

FINNISH = Words(
    scheduled="Sovittu aika: ${scheduled_start} - ${scheduled_end}.",
    unscheduled="Sille ei ole vielä sovittu aikaa.",
    statuses={
        "new": "uusi",
        "scheduled": "aikataulutettu",
        "assigned": "annettu tekijälle",
        "in_progress": "työn alla",
        "completed": "valmis",
        "cancelled": "peruttu",
    },
    priorities={"low": "matala", "normal": "normaali", "high": "korkea", "urgent": "kiireellinen"},
    reasons={
        "user_deactivated": "tekijän käyttäjätili poistettiin käytöstä",
        "dpa_inactive": "hänen organisaationsa tietojenkäsittelysopimus ei ole enää voimassa",
        "assignee_not_in_area": "tekijä ei työskentele kohteen uudella alueella",
        "invalid_assignee": "tekijä ei voi enää ottaa työtä",
        "unable_no_access": "kohteeseen ei päässyt sisään",
        "unable_customer_absent": "asiakas ei ollut paikalla",
        "unable_parts_needed": "ensin tarvitaan osia",
        "unable_unsafe": "kohteessa ei ole turvallista työskennellä",
        "unable_other": "syy on kerrottu tekijän muistiinpanoissa",
    },
    secret_kinds={
        "door_code": "ovikoodi",
        "alarm_code": "hälytyskoodi",
        "key_safe_code": "avainsäilön koodi",
    },
    no_reference="(ei viitettä)",
    rotation_subjects={
        "door_code": "ovikoodi",
        "alarm_code": "hälytyskoodi",
        "key_safe_code": "avainsäilön koodi",
        "lock": "lukko",
    },
    rotation_reasons={
        "revealed_by_leaver": "sen on nähnyt henkilö, joka on lähtenyt",
        "revealed_by_organization": (
            "sen on nähnyt aliurakoitsija, jonka tietojenkäsittelysopimus on päättynyt"
        ),
        "break_glass": "se paljastettiin hätäkäytöllä",
        "overdue": "se on vanhempi kuin organisaation käytäntö sallii",
        "key_lost": "sen avain on kadonnut",
        "key_not_returned": "sen avainta ei palautettu",
        "other": "sen voi tietää joku, jonka ei pitäisi",
    },
)

#: Event type → what people are told, in English. The webhook body is not a
#: template: it is the event's ids and facts (``webhooks/payloads.py``).
ENGLISH_TEMPLATES: Final[dict[str, Template]] = {
    "work_order.assigned": Template(
        subject="Work order ${reference} assigned to you",
        body=(
            "Work order ${reference} (${priority_text} priority) is assigned to you. "
            "${schedule}\nOpen it in fieldvault to see the site and the job."
        ),
        link=_WORK_ORDER,
    ),
    "work_order.scheduled": Template(
        subject="Work order ${reference} rescheduled",
        body=(
            "Work order ${reference} has a new time. ${schedule}\n"
            "Open it in fieldvault for the details."
        ),
        link=_WORK_ORDER,
    ),
    "work_order.started": Template(
        subject="Work order ${reference} started",
        body="The assignee has started work order ${reference}.\nFollow it in fieldvault.",
        link=_WORK_ORDER,
    ),
    "work_order.completed": Template(
        subject="Work order ${reference} completed",
        body=(
            "The assignee has completed work order ${reference}.\n"
            "Read the completion notes in fieldvault."
        ),
        link=_WORK_ORDER,
    ),
    "work_order.cancelled": Template(
        subject="Work order ${reference} cancelled",
        body="Work order ${reference} was cancelled. You no longer need to attend.",
        link=_WORK_ORDER,
    ),
    "work_order.returned": Template(
        subject="Work order ${reference} is back in the office queue",
        body=(
            "Work order ${reference} was taken from its assignee because ${reason_text}. "
            "It is ${status_text} again, with nobody assigned.\n"
            "Assign it to someone else in fieldvault."
        ),
        link=_WORK_ORDER,
    ),
    "work_order.unable": Template(
        subject="Work order ${reference} could not be done",
        body=(
            "The assignee could not do work order ${reference}: ${reason_text}. "
            "It is back in the office queue, ${status_text}, with nobody assigned.\n"
            "Read their notes and assign it again in fieldvault."
        ),
        link=_WORK_ORDER,
    ),
    "rotation_task.created": Template(
        subject="Change the ${rotation_subject_text} of site ${site_id}",
        body=(
            "Rotation task ${task_id}: the ${rotation_subject_text} of site ${site_id} must be "
            "changed, because ${rotation_reason_text} (since ${since}).\n"
            "See the rotation tasks in fieldvault."
        ),
        link="/office/rotation-tasks?site_id=${site_id}",
    ),
    "security.break_glass_reveal": Template(
        subject="Break-glass reveal: ${secret_kind_text}",
        body=(
            "User ${user_id} used break-glass to reveal the ${secret_kind_text} of site "
            "${site_id}.\nReview their reason in the audit trail."
        ),
        link="/audit",
    ),
    "security.secret_values_exported": Template(
        subject="Customer export with code values",
        body=(
            "User ${user_id} exported customer ${customer_id} together with the values "
            "of its codes (${secret_kinds_text}).\nReview their reason in the audit trail."
        ),
        link="/audit",
    ),
    "share.opened": Template(
        subject="Your secure share was opened",
        body=(
            "The recipient opened share ${share_id} with its link and PIN. "
            "It cannot be opened again."
        ),
        link="/office/shares",
    ),
    "share.locked": Template(
        subject="Your secure share was locked",
        body=(
            "Share ${share_id} received too many wrong PINs and can no longer be opened. "
            "Share it again if the recipient still needs it."
        ),
        link="/office/shares",
    ),
    "key.overdue": Template(
        subject="A key was not returned",
        body=(
            "User ${user_id} has not returned key ${key_id} of site ${site_id}; it was due "
            "back at ${due}.\nAsk for it back. If it is lost, mark it lost in fieldvault "
            "so the lock gets changed."
        ),
        link="/office/sites/${site_id}/keys",
    ),
    "security.reveal_rate_exceeded": Template(
        subject="Reveal rate limit crossed",
        body=(
            "User ${user_id} tried to reveal more than ${limit} secrets within "
            "${window_seconds} seconds and was refused.\nReview the audit trail."
        ),
        link="/audit",
    ),
    "webhook.disabled": Template(
        subject="A webhook was disabled",
        body=(
            "Webhook ${webhook_id} was disabled after ${consecutive_failures} failed "
            "deliveries in a row. Fix the receiver, then create the subscription again."
        ),
        link="/webhooks/${webhook_id}",
    ),
    "webhook.disabled_client_revoked": Template(
        subject="A partner's webhook was disabled",
        body=(
            "Webhook ${webhook_id} was disabled because the API client that created it "
            "was revoked. Nothing more is sent to it."
        ),
        link="/webhooks/${webhook_id}",
    ),
}

FINNISH_TEMPLATES: Final[dict[str, Template]] = {
    "work_order.assigned": Template(
        subject="Työtilaus ${reference} on annettu sinulle",
        body=(
            "Työtilaus ${reference} (kiireellisyys: ${priority_text}) on annettu sinulle. "
            "${schedule}\nAvaa se fieldvaultissa, niin näet kohteen ja työn."
        ),
        link=_WORK_ORDER,
    ),
    "work_order.scheduled": Template(
        subject="Työtilauksen ${reference} aika muuttui",
        body=(
            "Työtilauksella ${reference} on uusi aika. ${schedule}\nKatso tiedot fieldvaultista."
        ),
        link=_WORK_ORDER,
    ),
    "work_order.started": Template(
        subject="Työtilaus ${reference} on aloitettu",
        body="Tekijä on aloittanut työtilauksen ${reference}.\nSeuraa sitä fieldvaultissa.",
        link=_WORK_ORDER,
    ),
    "work_order.completed": Template(
        subject="Työtilaus ${reference} on valmis",
        body=(
            "Tekijä on saanut työtilauksen ${reference} valmiiksi.\n"
            "Lue tekijän muistiinpanot fieldvaultista."
        ),
        link=_WORK_ORDER,
    ),
    "work_order.cancelled": Template(
        subject="Työtilaus ${reference} on peruttu",
        body="Työtilaus ${reference} on peruttu. Sinun ei tarvitse enää mennä paikalle.",
        link=_WORK_ORDER,
    ),
    "work_order.returned": Template(
        subject="Työtilaus ${reference} palasi toimiston jonoon",
        body=(
            "Työtilaus ${reference} otettiin pois tekijältään, koska ${reason_text}. "
            "Sen tila on taas ${status_text}, eikä sitä ole annettu kenellekään.\n"
            "Anna se jollekulle toiselle fieldvaultissa."
        ),
        link=_WORK_ORDER,
    ),
    "work_order.unable": Template(
        subject="Työtilausta ${reference} ei voitu tehdä",
        body=(
            "Tekijä ei voinut tehdä työtilausta ${reference}: ${reason_text}. "
            "Se palasi toimiston jonoon (tila: ${status_text}), eikä sitä ole annettu "
            "kenellekään.\nLue tekijän muistiinpanot ja anna työ uudelleen fieldvaultissa."
        ),
        link=_WORK_ORDER,
    ),
    "rotation_task.created": Template(
        subject="Vaihda kohteen ${site_id} ${rotation_subject_text}",
        body=(
            "Vaihtotehtävä ${task_id}: kohteen ${site_id} ${rotation_subject_text} on "
            "vaihdettava, koska ${rotation_reason_text} (alkaen ${since}).\n"
            "Katso vaihtotehtävät fieldvaultista."
        ),
        link="/office/rotation-tasks?site_id=${site_id}",
    ),
    "security.break_glass_reveal": Template(
        subject="Hätäkäyttö: ${secret_kind_text} paljastettiin",
        body=(
            "Käyttäjä ${user_id} paljasti hätäkäytöllä kohteen ${site_id} salaisuuden "
            "(${secret_kind_text}).\nTarkista perustelu tarkastuslokista."
        ),
        link="/audit",
    ),
    "security.secret_values_exported": Template(
        subject="Asiakkaan tiedot vietiin koodien kanssa",
        body=(
            "Käyttäjä ${user_id} vei asiakkaan ${customer_id} tiedot koodien arvojen "
            "kanssa (${secret_kinds_text}).\nTarkista perustelu tarkastuslokista."
        ),
        link="/audit",
    ),
    "share.opened": Template(
        subject="Suojattu jako avattiin",
        body=(
            "Vastaanottaja avasi jaon ${share_id} linkillä ja PIN-koodilla. "
            "Sitä ei voi avata uudelleen."
        ),
        link="/office/shares",
    ),
    "share.locked": Template(
        subject="Suojattu jako lukittiin",
        body=(
            "Jakoon ${share_id} syötettiin liian monta väärää PIN-koodia, eikä sitä voi "
            "enää avata. Jaa se uudelleen, jos vastaanottaja vielä tarvitsee sitä."
        ),
        link="/office/shares",
    ),
    "key.overdue": Template(
        subject="Avainta ei palautettu",
        body=(
            "Käyttäjä ${user_id} ei ole palauttanut kohteen ${site_id} avainta ${key_id}; "
            "se piti palauttaa ${due} mennessä.\nPyydä avain takaisin. Jos se on kadonnut, "
            "merkitse se kadonneeksi fieldvaultissa, jotta lukko vaihdetaan."
        ),
        link="/office/sites/${site_id}/keys",
    ),
    "security.reveal_rate_exceeded": Template(
        subject="Paljastusten raja ylittyi",
        body=(
            "Käyttäjä ${user_id} yritti paljastaa yli ${limit} salaisuutta "
            "${window_seconds} sekunnin aikana, ja pyynnöt torjuttiin.\n"
            "Tarkista tarkastusloki."
        ),
        link="/audit",
    ),
    "webhook.disabled": Template(
        subject="Webhook poistettiin käytöstä",
        body=(
            "Webhook ${webhook_id} poistettiin käytöstä, koska ${consecutive_failures} "
            "toimitusta peräkkäin epäonnistui. Korjaa vastaanottaja ja luo tilaus sitten "
            "uudelleen."
        ),
        link="/webhooks/${webhook_id}",
    ),
    "webhook.disabled_client_revoked": Template(
        subject="Kumppanin webhook poistettiin käytöstä",
        body=(
            "Webhook ${webhook_id} poistettiin käytöstä, koska sen luonut API-asiakas "
            "on peruttu. Siihen ei lähetetä enää mitään."
        ),
        link="/webhooks/${webhook_id}",
    ),
}

TEMPLATES_BY_LANGUAGE: Final[dict[str, dict[str, Template]]] = {
    "en": ENGLISH_TEMPLATES,
    "fi": FINNISH_TEMPLATES,
}
WORDS_BY_LANGUAGE: Final[dict[str, Words]] = {"en": ENGLISH, "fi": FINNISH}


def invitation_text(language: str, url: str, expires: str) -> tuple[str, str]:
    """Subject and body of an invitation; the link stands alone on its line."""
    if language == "fi":
        until = f" ja vanhenee {expires}" if expires else ""
        return (
            "Sinut on kutsuttu fieldvaultiin",
            "Sinut on kutsuttu fieldvaultiin, yrityksesi työtilausjärjestelmään.\n\n"
            f"Aseta salasanasi tästä:\n{url}\n\n"
            f"Linkki toimii kerran{until}. "
            "Jos et odottanut tätä viestiä, voit jättää sen huomiotta.",
        )
    until = f" and expires {expires}" if expires else ""
    return (
        "You are invited to fieldvault",
        "You have been invited to fieldvault, your company's work orders.\n\n"
        f"Set your password here:\n{url}\n\n"
        f"The link works once{until}. "
        "If you did not expect this, ignore this message.",
    )


def share_email_text(url: str, expires: str) -> tuple[str, str]:
    """A secure share's e-mail, Finnish then English: the link alone on its line, no PIN."""
    until_fi = f" ja vanhenee {expires}" if expires else ""
    until_en = f" and expires {expires}" if expires else ""
    return (
        "Suojattu jako sinulle / A secure share for you",
        "Sinulle on jaettu aineisto suojatusti. Avaa se tästä linkistä; tarvitset "
        "PIN-koodin, joka tulee puhelimeesi tekstiviestinä.\n"
        "Something has been shared with you securely. Open it with this link; you will "
        "need the PIN that comes to your phone by text message.\n\n"
        f"{url}\n\n"
        f"Linkki toimii kerran{until_fi}. / The link works once{until_en}.\n"
        "Jos et odottanut tätä viestiä, voit jättää sen huomiotta. / "
        "If you did not expect this, ignore this message.",
    )


def share_sms_text(pin: str) -> str:
    """A secure share's SMS: the PIN, never the link."""
    return f"fieldvault: PIN {pin}. Linkki tulee sähköpostilla. / The link comes by e-mail."
