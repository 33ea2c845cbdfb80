import logging

from promptgraph.lm.limiter import AdaptiveLimit


def test_halving_the_requests_in_flight_is_logged_at_info_with_the_new_limit(caplog):
    limit = AdaptiveLimit(8)
    with caplog.at_level(logging.DEBUG, logger="promptgraph.lm.limiter"):
        limit.throttled()
    assert [(r.levelno, "at most 4 requests" in r.getMessage()) for r in caplog.records] == [(logging.INFO, True)]


def test_a_burst_of_refusals_within_the_cooldown_is_logged_once(caplog):
    limit = AdaptiveLimit(8, cooldown=3600.0)
    with caplog.at_level(logging.DEBUG, logger="promptgraph.lm.limiter"):
        for _ in range(5):
            limit.throttled()
    assert len(caplog.records) == 1
