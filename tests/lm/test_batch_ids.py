"""A Message Batches item's custom_id carries its request's tag, within the characters and length the API allows."""

import re

import pytest

from promptgraph.lm import Request
from promptgraph.lm.batch_ids import item_id, item_tag, request_of
from promptgraph.lm.cache import request_key

API_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # what the Message Batches API accepts as a custom_id
TAGS = ["forward", "critic", "synthesize expand", "évaluer/étape 2", "under_score-and-dash", ""]


def key_of(text: str) -> str:
    return request_key(Request(messages=[("user", text)]), "m", "anthropic")


@pytest.mark.parametrize("tag", TAGS)
def test_an_items_id_is_one_the_api_accepts(tag):
    assert API_PATTERN.fullmatch(item_id(key_of("hi"), tag))


@pytest.mark.parametrize("tag", TAGS)
def test_the_tag_is_read_back_from_the_id_as_it_was(tag):
    assert item_tag(item_id(key_of("hi"), tag)) == tag


def test_different_requests_have_different_ids_whatever_their_tags():
    ids = {item_id(key_of(text), tag) for text in ("a", "b", "c") for tag in ("forward", "critic")}
    assert len(ids) == 6


def test_a_tag_too_long_for_the_id_is_left_out_and_read_back_as_none():
    custom_id = item_id(key_of("hi"), "x" * 40)
    assert API_PATTERN.fullmatch(custom_id) and item_tag(custom_id) is None


def test_an_id_made_before_ids_carried_tags_has_no_tag():
    assert item_tag(key_of("hi")) is None  # the whole request key, as batches.json files hold


@pytest.mark.parametrize("tag", ["forward", "critic", "x" * 40])
def test_an_id_names_its_request_whatever_its_tag(tag):
    assert request_of(item_id(key_of("hi"), tag)) == request_of(key_of("hi")) != request_of(key_of("other"))


def test_an_id_made_before_ids_carried_tags_names_its_request_as_a_new_id_does():
    assert request_of(key_of("hi")) == request_of(item_id(key_of("hi"), "forward"))
