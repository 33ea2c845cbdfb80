"""A rough token count from the length of the text, for estimates made before anything is sent.

The API reports real counts after a call; before one (the cost estimate, whether a prompt prefix
is long enough to cache, how much of a rate limit a request takes) this is the one rule used.
"""

from __future__ import annotations

import math

CHARS_PER_TOKEN = 4  # a rough English average, on the cautious side; good enough for cost and limit shapes


def count_tokens(text: str) -> int:
    """Tokens in `text`, a partial token counted as one."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)
