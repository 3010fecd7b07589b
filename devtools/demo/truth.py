"""Ground truth: which group the identity rule implies for every feedback item.

This is deliberately independent of the person model: identifiers are read back from the records
exactly as they were emitted (messy spellings included), normalized the way the contract says,
and grouped by a union-find. An identifier attached to two or more member ids is ambiguous and
joins nothing. The generator then asserts that no group holds two different true persons.

Items are staged on disk while generating, so memory grows with the number of distinct
identifiers, not with the number of items.
"""

from __future__ import annotations

import csv
import re
from array import array
from pathlib import Path

NON_DIGITS = re.compile(r"[^0-9]")
TRUTH_COLUMNS = (
    "feedback_id", "source", "person_id", "expected_group", "intended_tags", "intended_sentiment",
    "nps", "csat", "ces", "rating", "channel", "created_at", "intended_tag_polarity",
)


def normalize_phone(value) -> str | None:
    """11-digit mainland mobile from any contract spelling, else None (placeholders like 未提供)."""
    if not isinstance(value, str):
        return None
    digits = NON_DIGITS.sub("", value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if len(digits) == 11 and digits[0] == "1" else None


def normalize_email(value) -> str | None:
    """Trimmed lower-case email, else None."""
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    return value if "@" in value else None


def _text(value) -> str | None:
    if value is None:
        return None
    value = str(value)
    return value if value.strip() else None


def person_keys(member_id=None, phone=None, email=None, unionid=None) -> list[str]:
    """Strong identifier keys of a person-like field group (respondent, requester, member)."""
    keys = []
    member_id = _text(member_id)
    if member_id:
        keys.append("member:" + member_id)
    phone = normalize_phone(phone)
    if phone:
        keys.append("phone:" + phone)
    email = normalize_email(email)
    if email:
        keys.append("email:" + email)
    unionid = _text(unionid)
    if unionid:
        keys.append("unionid:" + unionid)
    return keys


def account_key(platform, account_id) -> list[str]:
    """[platform account key] or [] when the account id is missing."""
    account_id = _text(account_id)
    platform = _text(platform)
    return [f"acct:{platform}:{account_id}"] if account_id and platform else []


def record_keys(source: str, record: dict) -> list[str]:
    """Identifier keys of one emitted record (JSON record or flat CSV row dict)."""
    if source == "surveys":
        fields = record.get("respondent") if "respondent" in record else record
        fields = fields if isinstance(fields, dict) else {}
        return person_keys(fields.get("member_id"), fields.get("phone"), fields.get("email"), fields.get("unionid"))
    if source == "tickets":
        fields = record.get("requester") or {}
        return person_keys(fields.get("member_id"), fields.get("phone"), fields.get("email"))
    if source == "reviews":
        return account_key(record.get("platform"), record.get("buyer_open_id"))
    if source == "social":
        author = record.get("author") or {}
        return account_key(record.get("platform"), author.get("uid"))
    if source == "members":
        keys = person_keys(record.get("member_id"), record.get("phone"), record.get("email"), record.get("unionid"))
        for account in record.get("bound_accounts") or []:
            keys += account_key(account.get("platform"), account.get("account_id"))
        return keys
    raise ValueError(source)


class IdentityTruth:
    """Collects emitted identifiers, then groups items with a union-find and writes the truth CSV."""

    def __init__(self, staging_path: Path):
        self.staging_path = staging_path
        self._staging = open(staging_path, "w", encoding="utf-8", newline="\n")
        self.node_of: dict[str, int] = {}
        self.owner = array("q")  # node id of the first member id the identifier is attached to
        self.ambiguous = bytearray()

    def _nodes(self, keys: list[str]) -> list[int]:
        nodes = []
        for key in keys:
            node = self.node_of.get(key)
            if node is None:
                node = self.node_of[key] = len(self.owner)
                self.owner.append(-1)
                self.ambiguous.append(0)
            if node not in nodes:
                nodes.append(node)
        return nodes

    def _attach(self, keys: list[str], nodes: list[int]) -> None:
        """Attach every identifier of a record to the record's member id, if it has one."""
        member_nodes = [n for k, n in zip(keys, nodes) if k.startswith("member:")]
        if not member_nodes:
            return
        member = member_nodes[0]
        for node in nodes:
            owner = self.owner[node]
            if owner == -1:
                self.owner[node] = member
            elif owner != member:
                self.ambiguous[node] = 1

    def add_member_version(self, person_id: str, record: dict) -> None:
        """A valid member record version (every version counts for identifier history)."""
        keys = record_keys("members", record)
        nodes = self._nodes(keys)
        self._attach(keys, nodes)
        self._staging.write(f"M\t{person_id}\t{','.join(map(str, nodes))}\n")

    def add_item(self, *, feedback_id: str, source: str, person_id: str, keys: list[str], tags: list[str],
                 signs: list[str], sentiment: str, channel: str, created_at: str,
                 nps=None, csat=None, ces=None, rating=None) -> None:
        """The final version of one valid feedback item."""
        nodes = self._nodes(keys)
        self._attach(keys, nodes)
        polarity = "|".join(f"{tag}:{sign}" for tag, sign in zip(tags, signs))
        fields = (feedback_id, source, "|".join(tags), sentiment, _cell(nps), _cell(csat), _cell(ces),
                  _cell(rating), channel, created_at, polarity)
        self._staging.write(f"I\t{person_id}\t{','.join(map(str, nodes))}\t" + "\t".join(fields) + "\n")

    def finalize(self, truth_csv: Path) -> dict:
        """Union, check that no group spans two persons, write feedback_truth.csv; return stats."""
        self._staging.close()
        size = len(self.owner)
        parent = array("q", range(size))

        def find(node: int) -> int:
            while parent[node] != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        for _, _, usable in self._staged_rows():
            for node in usable[1:]:
                a, b = find(usable[0]), find(node)
                if a != b:
                    parent[max(a, b)] = min(a, b)  # the smallest node id labels the group
        person_of_root: dict[int, str] = {}
        stats = {"items": 0, "items_grouped": 0, "items_anonymous": 0, "identifiers": size,
                 "ambiguous_identifiers": sum(self.ambiguous)}
        with open(truth_csv, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(TRUTH_COLUMNS)
            for kind, parts, usable in self._staged_rows():
                group = ""
                if usable:
                    root = find(usable[0])
                    known = person_of_root.setdefault(root, parts[1])
                    if known != parts[1]:
                        raise AssertionError(
                            f"identity truth: group G{root:07d} would join persons {known} and {parts[1]}")
                    group = f"G{root:07d}"
                if kind == "I":
                    stats["items"] += 1
                    stats["items_grouped" if group else "items_anonymous"] += 1
                    writer.writerow((parts[3], parts[4], parts[1], group, *parts[5:]))
        stats["groups"] = len(person_of_root)
        self.staging_path.unlink()
        return stats

    def _staged_rows(self):
        """(kind, tab-separated parts, non-ambiguous node ids) of every staged line."""
        ambiguous = self.ambiguous
        with open(self.staging_path, encoding="utf-8", newline="\n") as handle:
            for line in handle:
                parts = line.rstrip("\n").split("\t")
                nodes = [int(n) for n in parts[2].split(",")] if parts[2] else []
                yield parts[0], parts, [n for n in nodes if not ambiguous[n]]


def _cell(value) -> str:
    return "" if value is None else str(value)
