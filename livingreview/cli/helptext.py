"""How ``--help`` looks: plain text, one naming style, no type labels.

Typer's own layout labels every parameter with its Python type (``<bool>``, ``<list[str]>``,
``<int range> [x>=1]``) and writes argument names as ``{record_id}``, ``FILE`` or ``[folder]``;
its rich layout also costs a fifth of a second of imports before anything is printed. Every
command of the app gets ``PlainCommand`` instead (see ``plain_help``): arguments and values are
named in capitals (``RECORD_ID``, ``FILE``), a value with a fixed set of choices lists them, and
the help text says the rest.
"""

from __future__ import annotations

import enum

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup


def value_name(param) -> str:
    """RECORD_ID, FILE, title_abstract|full_text: the name shown for a parameter's value."""
    if param.metavar:
        return param.metavar
    descriptor = getattr(param, "type_descriptor", None)  # absent when a command set its own type
    choices = descriptor.choices if descriptor is not None and descriptor.is_choice else None
    if choices and not isinstance(param, TyperArgument):  # an argument's help names its choices
        return "|".join(c.value if isinstance(c, enum.Enum) else str(c) for c in choices)
    return (param.name or "value").upper()


def _extras(param, ctx) -> str:
    parts = []
    default = param.get_default(ctx, call=False)
    if getattr(param, "show_default", True) is not False and not param.required:
        if getattr(param, "is_flag", False) and getattr(param, "secondary_opts", None):
            parts.append(f"default: {(param.opts if default else param.secondary_opts)[0]}")
        elif default not in (None, "", [], (), False):
            shown = default.value if isinstance(default, enum.Enum) else default
            parts.append(f"default: {shown}")
    if param.required:
        parts.append("required")
    return f"  [{'; '.join(parts)}]" if parts else ""


def help_record(param, ctx) -> tuple[str, str] | None:
    if getattr(param, "hidden", False):
        return None
    if isinstance(param, TyperArgument):
        name = value_name(param) + ("..." if param.nargs != 1 else "")
    else:
        name = ", ".join(param.opts)
        if param.secondary_opts:
            name += " / " + ", ".join(param.secondary_opts)
        if not param.is_flag and not param.count:
            name += " " + value_name(param) + ("..." if param.nargs != 1 else "")
            if param.multiple:
                name += " (repeatable)"
    return name, (param.help or "") + _extras(param, ctx)


class PlainCommand(TyperCommand):
    """A command whose help follows this module's layout."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                shown = value_name(param) + ("..." if param.nargs != 1 else "")
                pieces.append(shown if param.required else f"[{shown}]")
        return pieces

    def format_options(self, ctx, formatter) -> None:
        rows = [(p, help_record(p, ctx)) for p in self.get_params(ctx)]
        arguments = [r for p, r in rows if r and isinstance(p, TyperArgument)]
        options = [r for p, r in rows if r and not isinstance(p, TyperArgument)]
        for title, records in (("Arguments", arguments), ("Options", options)):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)


class PlainGroup(TyperGroup):
    """A command group whose own options follow this module's layout."""

    def format_options(self, ctx, formatter) -> None:
        records = [r for r in (help_record(p, ctx) for p in self.get_params(ctx)) if r]
        if records:
            with formatter.section("Options"):
                formatter.write_dl(records)
        self.format_commands(ctx, formatter)


def plain_help(app: typer.Typer) -> None:
    """Give every command and command group of ``app`` (and of its sub-apps) the plain layout."""
    for command in app.registered_commands:
        if command.cls in (None, TyperCommand):  # typer's default: no command chose its own
            command.cls = PlainCommand
    for group in app.registered_groups:
        group.cls = PlainGroup
        if group.typer_instance is not None:
            plain_help(group.typer_instance)
