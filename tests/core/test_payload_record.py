"""The stored payload: the sent JSON kept as it is only when masking would not change it.

``payload_record`` skips walking the body when :meth:`Masker.untouched` says no secret
and no secret-looking key is in it. Whatever the body and the secrets, the stored body
must be exactly what the value-by-value walk gives (hypothesis looks for a body where
it is not).
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from notify_core._masking import Masker
from notify_core._outbox import payload_record
from notify_core._provider import Payload

KEYS = st.sampled_from(["title", "body", "token", "api-key", "dedup_key", "x", 'q"uote', "ü"])
# no lone surrogates: messages are cleaned of them before any payload is built
# (test_undecodable.py), and no payload holding one can be sent or stored
TEXT = st.text(
    alphabet=st.sampled_from('ab"\\\n:,{}ü€ ') | st.characters(exclude_categories=("Cs",)),
    max_size=12,
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS | TEXT, inner, max_size=4),
    max_leaves=12,
)
SECRETS = st.lists(st.text(alphabet=st.sampled_from('abc"\\:, ü'), min_size=4, max_size=8))


@settings(max_examples=400, deadline=None)
@given(body=JSON, secrets=SECRETS)
def test_the_stored_body_is_the_walked_body(body, secrets):
    masker = Masker(secrets)
    stored = json.loads(payload_record(Payload(body=body, headers={"X-Api-Key": "k" * 8}), masker))
    walked = json.loads(json.dumps(masker.data(body), ensure_ascii=False))
    assert stored["body"] == walked
    assert stored["headers"] == {"X-Api-Key": "****"}


def test_a_secret_in_a_value_or_a_secret_key_is_still_masked():
    masker = Masker(["s3cr3t-value"])
    record = json.loads(
        payload_record(Payload(body={"text": "see s3cr3t-value", "token": "abcdef"}), masker)
    )
    assert "s3cr3t-value" not in json.dumps(record)
    assert record["body"]["token"] != "abcdef"
    plain = payload_record(Payload(body={"text": "nothing here"}), masker)
    assert json.loads(plain)["body"] == {"text": "nothing here"}


def test_keys_that_only_ignoring_case_makes_secret_are_still_masked():
    """``ſecret`` and ``toKen`` (long s, Kelvin sign) are secret keys to is_secret_key."""
    masker = Masker()
    for key in ("\u017fecret", "to\u212aen", "X-Api-KEY", "Signature"):
        record = json.loads(payload_record(Payload(body={key: "abcdefgh"}), masker))
        assert record["body"][key] != "abcdefgh", key
    kept = json.loads(payload_record(Payload(body={"dedup_key": "abcdefgh"}), masker))
    assert kept["body"]["dedup_key"] == "abcdefgh"
