"""Reading a user's file as text: UTF-8 (with or without a byte-order mark) first, then the
Windows/Latin-1 code pages that spreadsheet and reference-manager exports still use.

A file that is not UTF-8 is read anyway, but the fallback is reported with a
``FileDecodingWarning`` (the import command prints it), because a wrong guess shows up as
garbled names rather than as an error.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from livingreview.errors import InputError


class FileDecodingWarning(UserWarning):
    """A file was not valid UTF-8 and was decoded with a single-byte code page instead."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # "utf-8", "utf-8-sig", "utf-16", "cp1252" or "latin-1"


def read_text(path: str | Path) -> DecodedText:
    """The file's text with newlines normalised to ``\\n``; warns when it was not UTF-8."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), "file", "the file does not exist",
                         "check the path (relative paths start from the current folder)") from None
    except IsADirectoryError:
        raise InputError(str(path), "file", "this is a folder, not a file",
                         "give the path of one exported reference file") from None
    except PermissionError:
        raise InputError(str(path), "file", "the file cannot be read (permission denied)",
                         "make the file readable for your user") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return DecodedText(_newlines(data.decode("utf-16")), "utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(str(path), f"byte {exc.start}", "the file starts with a UTF-16 "
                             "byte-order mark but is not valid UTF-16 (damaged or cut short)",
                             "export it again, or save it as UTF-8") from None
    if b"\x00" in data[:4096]:
        raise InputError(str(path), "file", "this is a binary file (it contains NUL bytes), not "
                         "a text export", "export the references as RIS, BibTeX, MEDLINE (.nbib) "
                         "or CSV; an Excel workbook must be saved as CSV (UTF-8) first")
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        data = data[3:]
    try:
        return DecodedText(_newlines(data.decode("utf-8")), "utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        # cp1252 is Latin-1 plus the curly quotes and dashes Word and Excel produce; it leaves
        # five bytes undefined, and only then is plain Latin-1 the better guess.
        for encoding in ("cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            warnings.warn(FileDecodingWarning(
                f"{path}: line {line}: the file is not UTF-8; it was read as {encoding} "
                f"(Windows/Latin-1). Check accented names in the result; to be sure, save the "
                f"file as UTF-8 and import it again"), stacklevel=2)
            return DecodedText(_newlines(text), encoding)
        raise  # unreachable: latin-1 decodes every byte


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
