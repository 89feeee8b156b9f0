"""A persisted, incremental index of the corpus for matching new records.

The index keeps the corpus's normalised comparison fields and its blocking entries sorted by key,
so that a monthly batch is matched by binary search against it instead of re-deduplicating the
whole corpus. It is saved as one ``.npz`` file holding plain arrays (no pickle): text columns as
newline-joined UTF-8, numbers as integer arrays.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from livingreview.dedup.blocking import cross_pairs, record_keys, sort_entries
from livingreview.dedup.match import Match, pair_matches
from livingreview.dedup.table import INT_COLUMNS, STRING_COLUMNS, RecordTable
from livingreview.errors import InputError
from livingreview.records import Record

FORMAT_VERSION = 1


class CorpusIndex:
    """Normalised corpus records and their sorted blocking entries."""

    def __init__(self) -> None:
        self.table = RecordTable.empty()
        self.hashes = np.empty(0, dtype=np.uint64)
        self.rows = np.empty(0, dtype=np.int64)
        self.order = np.empty(0, dtype=np.uint64)
        self._keys: set[str] | None = None

    def __len__(self) -> int:
        return len(self.table)

    def __contains__(self, key: str) -> bool:
        return key in self._key_set()

    def keys(self) -> set[str]:
        """The keys of the records held (a copy)."""
        return set(self._key_set())

    def _key_set(self) -> set[str]:
        if self._keys is None:
            self._keys = set(self.table.key.tolist())
        return self._keys

    def add(self, keyed_records: Iterable[tuple[str, Record]]) -> None:
        """Add records to the index; a key already present is skipped (re-runs add nothing twice)."""
        known = self._key_set()
        fresh, seen = [], set()
        for key, record in keyed_records:
            key = str(key)
            if "\n" in key:
                raise ValueError(f"record key {key!r} contains a newline; use keys without one")
            if key in known or key in seen:
                continue
            seen.add(key)
            fresh.append((key, record))
        if not fresh:
            return
        self.add_table(RecordTable.from_records(fresh))

    def add_table(self, table: RecordTable) -> None:
        """Add an already normalised table (its keys must be new to the index)."""
        offset = len(self.table)
        hashes, rows, order = record_keys(table, stable=True)
        self.table = RecordTable.concat([self.table, table])
        self.hashes, self.rows, self.order = sort_entries(
            np.concatenate([self.hashes, hashes]),
            np.concatenate([self.rows, rows + offset]),
            np.concatenate([self.order, order]),
        )
        if self._keys is not None:
            self._keys.update(table.key.tolist())

    def match(self, keyed_records: Iterable[tuple[str, Record]]) -> list[Match]:
        """Matches of new records against the indexed corpus only (``left`` = new key)."""
        return self.match_table(RecordTable.from_records(list(keyed_records)))

    def match_table(self, new: RecordTable) -> list[Match]:
        hashes, rows, order = record_keys(new, stable=True)
        left, right = cross_pairs(
            hashes, rows, order, self.hashes, self.rows, self.order, len(self.table)
        )
        matches = pair_matches(new, self.table, left, right)
        # a record matched again after it was added is not its own duplicate
        return [m for m in matches if m.left != m.right]

    # ------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike) -> None:
        """Write the index to ``path`` atomically (a reader never sees half a file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"format_version": np.array([FORMAT_VERSION])}
        for name in STRING_COLUMNS:
            text = "\n".join(getattr(self.table, name).tolist())
            arrays["text_" + name] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        for name in INT_COLUMNS:
            arrays["int_" + name] = getattr(self.table, name)
        arrays.update(hashes=self.hashes, rows=self.rows, order=self.order)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                np.savez(stream, **arrays)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CorpusIndex":
        """Read an index written by ``save``."""
        path = Path(path)
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise InputError(
                str(path), "whole file", f"not a readable deduplication index ({error})",
                "rebuild it from the corpus (CorpusIndex().add(...); save())",
            ) from error
        with data:
            version = int(data["format_version"][0]) if "format_version" in data else None
            if version != FORMAT_VERSION:
                raise InputError(
                    str(path), "format_version", f"index format {version}, expected "
                    f"{FORMAT_VERSION}", "rebuild the index from the corpus",
                )
            n = len(data["int_year"])
            columns = {}
            for name in STRING_COLUMNS:
                text = data["text_" + name].tobytes().decode("utf-8")
                values = text.split("\n") if n else []
                column = np.empty(n, dtype=object)
                column[:] = values
                columns[name] = column
            for name in INT_COLUMNS:
                columns[name] = data["int_" + name]
            index = cls()
            index.table = RecordTable(**columns)
            index.hashes, index.rows, index.order = data["hashes"], data["rows"], data["order"]
        return index
