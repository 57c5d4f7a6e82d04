"""core/sealed.py: secrets at rest are sealed with PIXELSMITH_SECRET_KEY and opened only by it."""

from __future__ import annotations

import pytest

from core import messages
from core.config import Settings, load_settings
from core.errors import ConfigError
from core.sealed import ENV_VAR, Sealer, Unsealable, fingerprint, sealer_for, split_secrets

OLD = "o" * 20 + "ld-secret-0123456789"
NEW = "n" * 20 + "ew-secret-9876543210"
SECRET_TEXT = "sk-community-7f3a9c"


def test_seal_then_open_round_trips_and_hides_the_plaintext() -> None:
    sealer = Sealer.from_value(NEW)
    sealed = sealer.seal(SECRET_TEXT)
    assert SECRET_TEXT not in sealed
    assert sealer.open(sealed) == SECRET_TEXT
    # two seals of one value differ (random IV), so equal keys are not visible in the table
    assert sealer.seal(SECRET_TEXT) != sealed


def test_a_wrong_key_or_an_altered_value_is_unsealable_without_the_value() -> None:
    sealed = Sealer.from_value(OLD).seal(SECRET_TEXT)
    with pytest.raises(Unsealable) as caught:
        Sealer.from_value(NEW).open(sealed, what="gateway_key")
    assert caught.value.params == {"what": "gateway_key"}
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(Unsealable):
        Sealer.from_value(OLD).open(tampered)
    with pytest.raises(Unsealable):
        Sealer.from_value(OLD).open("not a token ☃")
    for locale in ("en", "zh-CN"):
        text = messages.render(caught.value, locale)
        assert ENV_VAR in text
        assert SECRET_TEXT not in text and sealed not in text


def test_rotation_new_key_first_opens_old_values_and_reseals_them() -> None:
    old_sealed = Sealer.from_value(OLD).seal(SECRET_TEXT)
    both = Sealer.from_value(f"{NEW}, {OLD}")
    assert both.open(old_sealed) == SECRET_TEXT
    resealed = both.reseal(old_sealed)
    # the re-sealed value opens with the new key alone: the old one can then be dropped
    assert Sealer.from_value(NEW).open(resealed) == SECRET_TEXT
    with pytest.raises(Unsealable):
        Sealer.from_value(OLD).open(resealed)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (None, "not set"),
        ("", "not set"),
        (" , ,", "not set"),
        ("abc123", "shorter than 32"),
        (f"{NEW},tiny", "key 2 of 2 is shorter"),
        (",".join([NEW] * 9), "at most 8"),
    ],
)
def test_a_missing_or_weak_key_is_a_config_error_naming_the_variable(
    raw: str | None, needle: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        split_secrets(raw)
    assert caught.value.params["key"] == ENV_VAR
    for locale in ("en", "zh-CN"):
        text = messages.render(caught.value, locale)
        assert ENV_VAR in text
        if raw:
            for part in raw.split(","):
                if part.strip():
                    assert part.strip() not in text
    assert needle in caught.value.params["problem"]


def test_the_sealer_reads_the_environment_variable_over_the_file(tmp_path: object) -> None:
    settings = load_settings(env={ENV_VAR: f"{NEW},{OLD}"})
    sealer = sealer_for(settings)
    assert sealer.key_count == 2
    assert NEW not in repr(sealer) and OLD not in repr(sealer)
    with pytest.raises(ConfigError):
        sealer_for(Settings())


def test_the_sealing_key_differs_from_the_raw_secret_per_purpose() -> None:
    from core.sealed import derive_key

    assert derive_key(NEW) != derive_key(NEW, b"another purpose")
    assert NEW.encode() not in derive_key(NEW)


def test_fingerprint_is_stable_short_and_not_the_secret() -> None:
    assert fingerprint(SECRET_TEXT) == fingerprint(SECRET_TEXT)
    assert fingerprint(SECRET_TEXT) != fingerprint(SECRET_TEXT + "x")
    assert SECRET_TEXT not in fingerprint(SECRET_TEXT)
    assert len(fingerprint(SECRET_TEXT)) == len("sha256:") + 12
