"""A run-wide account of calls, tokens and dollars, per model and per caller tag.

One Ledger is shared by every thread of a run, so every update happens under a lock.
A cached response is counted as a cache hit and costs nothing: the money was spent
(and recorded) when the response was first fetched.

A run that checkpoints keeps a journal too: every paid call is appended to a file, one
JSON line each, flushed at once. A run killed mid-iteration loses the ledger of that
iteration (the checkpoint holds the last finished one), and its paid calls come back
from the response cache for free on resume, so without the journal they would never be
counted; with it, resuming adds them back. A new run never cuts a journal it finds (a run killed
before its first checkpoint leaves only that record of what it paid): it is kept beside the new one.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import TextIO

import attrs

from promptgraph.lm.base import Response, Usage
from promptgraph.lm.prices import price_for

logger = logging.getLogger(__name__)


@attrs.frozen
class Account:
    """What one (model, tag) pair has used so far."""

    model: str
    tag: str
    calls: int = 0
    cache_hits: int = 0
    failures: int = 0
    unknown_usage: int = 0  # calls whose server reported impossible usage: not in `usage` or `usd`
    usage: Usage = Usage()
    usd: float = attrs.field(default=0.0, repr=lambda usd: f"{usd:.6f}")  # not 0.0002991999999999998

    @property
    def priced(self) -> bool:
        return price_for(self.model) is not None

    @property
    def priced_calls(self) -> int:
        """Paid calls whose cost is in `usd`: a known price and usage the server reported sensibly."""
        return self.calls - self.unknown_usage if self.priced else 0


@attrs.define
class Ledger:
    """Every call made, per model and tag: tokens, cache hits and cost in USD.

    Pass one to `pg.compile(..., ledger=)` or `program.run(..., ledger=)` to share it; `ledger.usd`
    is the total and `ledger.accounts()` the detail per model and tag.
    """

    _accounts: dict[tuple[str, str], Account] = attrs.field(factory=dict, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)
    _journal: TextIO | None = attrs.field(default=None, init=False, repr=False)
    _journal_lines: int = attrs.field(default=0, init=False, repr=False)

    def record(self, response: Response, *, tag: str) -> None:
        with self._lock:
            if response.cached:
                account = self._account(response.model, tag)
                self._accounts[(response.model, tag)] = attrs.evolve(account, cache_hits=account.cache_hits + 1)
                return
            self._add_paid(response.model, tag, response.usage, batched=response.batched)
            if self._journal is not None:
                line = {"model": response.model, "tag": tag, "usage": attrs.asdict(response.usage)}
                self._journal.write(json.dumps(line | {"batched": response.batched}) + "\n")
                self._journal.flush()  # into the kernel now: a SIGKILL a moment later loses nothing
                self._journal_lines += 1

    def _add_paid(self, model: str, tag: str, usage: Usage, *, batched: bool) -> None:
        account = self._account(model, tag)
        if not usage.known:  # the server's numbers were impossible: counted as a call, never as tokens or dollars
            self._accounts[(model, tag)] = attrs.evolve(
                account, calls=account.calls + 1, unknown_usage=account.unknown_usage + 1
            )
            return
        self._accounts[(model, tag)] = attrs.evolve(
            account,
            calls=account.calls + 1,
            usage=account.usage + usage,
            usd=account.usd + usage.cost(model, batched=batched),
        )

    def journal_to(self, path: Path, *, counted: int | None = None) -> None:
        """Append every paid call to `path` from now on.

        `counted=None` starts a new journal; one already at `path` is kept beside it (see
        `_keep_beside`), never cut, and its calls are not this ledger's. Resuming, `counted` is
        how many of its lines the restored accounts already hold (`journal_lines` when the
        checkpoint was written): the calls after them were paid for after that checkpoint, and are added.
        """
        with self._lock:
            self._close_journal()
            if counted is None:
                _keep_beside(path)
            lines: list[str] = []
            if counted is not None and path.exists():
                text = path.read_text(encoding="utf-8")
                lines = text.splitlines()
                for line in lines[counted:]:
                    self._replay(line)
            journal = path.open("a" if counted is not None else "w", encoding="utf-8")
            if lines and not text.endswith("\n"):
                journal.write("\n")  # a line cut by a kill stays one unreadable line, not glued to the next
            self._journal, self._journal_lines = journal, len(lines)

    @classmethod
    def from_journal(cls, path: Path) -> Ledger:
        """The paid calls a journal records, e.g. one kept beside a new run's (a line cut by a kill is skipped)."""
        ledger = cls()
        for line in path.read_text(encoding="utf-8").splitlines():
            ledger._replay(line)
        return ledger

    def _replay(self, line: str) -> None:
        try:
            entry = json.loads(line)
            usage = Usage(**entry["usage"])
            model, tag, batched = str(entry["model"]), str(entry["tag"]), bool(entry.get("batched", False))
        except (ValueError, KeyError, TypeError):
            return  # the last line, cut short by the kill that ended the run: its call was not counted
        self._add_paid(model, tag, usage, batched=batched)

    @property
    def journal_lines(self) -> int:
        """How many lines the journal holds, each already counted in this ledger's accounts."""
        with self._lock:
            return self._journal_lines

    def close_journal(self) -> None:
        with self._lock:
            self._close_journal()

    def _close_journal(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def record_failure(self, model: str, *, tag: str) -> None:
        with self._lock:
            account = self._account(model, tag)
            self._accounts[(model, tag)] = attrs.evolve(account, failures=account.failures + 1)

    def _account(self, model: str, tag: str) -> Account:
        return self._accounts.get((model, tag)) or Account(model=model, tag=tag)

    def accounts(self) -> list[Account]:
        """Every (model, tag) account, in a stable order."""
        with self._lock:
            return [self._accounts[key] for key in sorted(self._accounts)]

    @property
    def usd(self) -> float:
        return sum(account.usd for account in self.accounts())

    @property
    def calls(self) -> int:
        return sum(account.calls for account in self.accounts())

    def usd_by(self, field: str) -> dict[str, float]:
        """Dollars per `model` or per `tag`."""
        totals: dict[str, float] = {}
        for account in self.accounts():
            key = getattr(account, field)
            totals[key] = totals.get(key, 0.0) + account.usd
        return totals

    def unpriced_models(self) -> list[str]:
        return sorted({account.model for account in self.accounts() if not account.priced})

    def to_dict(self) -> dict:
        """Plain JSON-ready data, for checkpoints and reports."""
        return {"accounts": [attrs.asdict(account) for account in self.accounts()]}

    @classmethod
    def from_dict(cls, data: dict) -> Ledger:
        ledger = cls()
        for row in data["accounts"]:
            ledger.restore(Account(**{**row, "usage": Usage(**row["usage"])}))
        return ledger

    def restore(self, account: Account) -> None:
        """Take over an account from a saved run (resuming): it replaces this ledger's account for the same key."""
        with self._lock:
            self._accounts[(account.model, account.tag)] = account

    def table(self) -> str:
        """A fixed-width summary for terminals and logs."""
        return format_table(self.accounts(), self.unpriced_models())

    def __repr__(self) -> str:
        accounts = self.accounts()
        cached = sum(account.cache_hits for account in accounts)
        hits = f", cached={cached}" if cached else ""
        return f"Ledger(calls={sum(account.calls for account in accounts)}{hits}, {cost_text(accounts)})"


def _keep_beside(path: Path) -> None:
    """Move a journal that records calls to `path`'s name with the first free number (ledger-journal.1.jsonl),
    and say so: those calls were paid for, by a run that never checkpointed them or by one being replaced."""
    if not path.exists() or path.stat().st_size == 0:  # nothing was paid: nothing to keep
        return
    number = 1
    while (kept := path.with_name(f"{path.stem}.{number}{path.suffix}")).exists():
        number += 1
    path.replace(kept)
    earlier = Ledger.from_journal(kept)
    calls = f"{earlier.calls} paid call{'s' if earlier.calls != 1 else ''}"
    logger.warning(
        "%s recorded %s (%s) of an earlier run: kept as %s; this run's journal and totals hold its own calls",
        path,
        calls,
        cost_text(earlier.accounts()),
        kept,
    )


def cost_text(accounts: list[Account]) -> str:
    """What the calls cost: "$0.4200"; "cost unknown" when no call had a price, never a false "$0.0000"."""
    if not cost_known(accounts):
        return "cost unknown"
    unknown = sum(account.calls - account.priced_calls for account in accounts)
    usd = sum(account.usd for account in accounts)
    shown = f"${usd:.2f}" if usd >= 1 else f"${usd:.4f}"
    return f"{shown} + unknown" if unknown else shown


def cost_known(accounts: list[Account]) -> bool:
    """Whether a sum of these accounts is a cost: some call was priced, or every answer was of a priced model's
    from the cache (paid for before). Calls made with none of them priced sum to an "unknown", never a false
    0.0000; so do an unpriced model's answers from the cache, so that a local run's lines, its first answered
    from the cache and its later ones paid, all say the same, as its table row does."""
    if any(account.priced_calls for account in accounts):
        return True
    return not any(account.calls or (account.cache_hits and not account.priced) for account in accounts)


def _usd_cell(accounts: list[Account]) -> str:
    """A table's USD cell: "unknown" when calls were made and none of them could be priced."""
    if not cost_known(accounts):
        return "unknown"
    return f"{sum(account.usd for account in accounts):.4f}"


def _total_cell(accounts: list[Account]) -> str:
    """The table's total: "unknown" when nothing could be priced, and a sum that leaves calls out says which."""
    total = _usd_cell(accounts)
    unpriced = sorted({account.model for account in accounts if account.calls and not account.priced})
    impossible = sum(account.unknown_usage for account in accounts if account.priced)
    if total == "unknown" or not (unpriced or impossible):
        return total
    left_out = [f"unpriced calls to {', '.join(unpriced)}"] if unpriced else []
    left_out += [f"{impossible} call{'s' if impossible != 1 else ''} of unknown usage"] if impossible else []
    return f"{total} + {' + '.join(left_out)}"


def format_table(accounts: list[Account], unpriced: list[str]) -> str:
    header = ("model", "tag", "calls", "cached", "failed", "in", "out", "cache w", "cache r", "USD")
    rows = [
        (
            a.model,
            a.tag,
            str(a.calls),
            str(a.cache_hits),
            str(a.failures),
            str(a.usage.input_tokens),
            str(a.usage.output_tokens),
            str(a.usage.cache_write_tokens),
            str(a.usage.cache_read_tokens),
            _usd_cell([a]) if a.priced else "unknown",
        )
        for a in accounts
    ]
    rows.append(("total", "", *[""] * 7, _total_cell(accounts)))
    table = columns(header, rows)
    unknown = sum(a.unknown_usage for a in accounts)
    if unknown:
        calls = "1 call" if unknown == 1 else f"{unknown} calls"
        table += f"\n{calls} reported impossible usage: their tokens and cost are unknown and not in the total"
    if unpriced:
        table += f"\nno list price for {', '.join(unpriced)}: their cost is not in the total"
    return table


def columns(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns wide enough for every cell, for terminals and logs."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]]
    return "\n".join(line.rstrip() for line in lines)
