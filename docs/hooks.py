"""mkdocs hooks: pages generated from the code at build time, so they cannot drift from it.

- ``protocols/<name>.md``: one page per registered task protocol (``neurometarl.tasks.TASKS``) with its
  description, citation, periods, actions, latents and every config parameter with its value and doc;
- ``cli.md``: the ``--help`` of every ``neurometarl`` sub-command.
"""

from __future__ import annotations

import dataclasses
import inspect
import re

from mkdocs.structure.files import File


def field_docs(cls) -> dict[str, str]:
    """``{field: doc}`` from a config docstring written as ``field: what it is`` (continuation indented)."""
    docs, current = {}, None
    for line in inspect.cleandoc(cls.__doc__ or "").splitlines():
        match = re.match(r"^(\w+): (.*)", line)
        if match and match.group(1) in {f.name for f in dataclasses.fields(cls)}:
            current = match.group(1)
            docs[current] = match.group(2).strip()
        elif current and line.startswith((" ", "\t")):
            docs[current] += " " + line.strip()
        else:
            current = None
    return docs


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def protocol_page(name: str, entry) -> str:
    cls, config = entry.cls, entry.config
    docs = field_docs(type(config))
    description = re.sub(r"\s*\[[^\]]*\]$", "", entry.description)
    lines = [f"# `{name}`", "", description + ".", "",
             f"**Citation:** {cls.citation or 'see the task family'}", "",
             f"**Implementation:** `{cls.__module__}.{cls.__name__}` with `{type(config).__name__}`; "
             f"build it with `make_task(\"{name}\", batch_size)`, record with "
             f"`record_session(subject, \"{name}\", n_episodes, seed)`.", ""]
    first_line = inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0].replace("\n", " ")
    if first_line:
        lines += [first_line, ""]
    lines += ["## Parameters", "", "| parameter | this protocol | default | meaning |", "|---|---|---|---|"]
    defaults = type(config)()
    for f in dataclasses.fields(config):
        value, default = getattr(config, f.name), getattr(defaults, f.name)
        lines.append(f"| `{f.name}` | `{_cell(repr(value))}` | `{_cell(repr(default))}` | {_cell(docs.get(f.name, ''))} |")
    lines += ["", "Override any of them with `make_task(name, batch_size, **overrides)` or, when training, "
              "`--task-options '{\"n_trials\": 50}'`.", "", "## Trial structure", "",
              f"- periods of a trial: {', '.join(f'`{p}`' for p in cls.period_names)} (choice scored in `{cls.choice_period}`)",
              f"- actions: {', '.join(f'`{a}`' for a in cls.action_names)}", ""]
    if cls.latents:
        lines += ["## Latent variables recorded per trial", "", "| variable | dims | long name | units |", "|---|---|---|---|"]
        for var, spec in cls.latents.items():
            lines.append(f"| `{var}` | {', '.join(spec.dims) or '—'} | {_cell(spec.long_name)} | {_cell(spec.units)} |")
    return "\n".join(lines) + "\n"


def protocols_index(tasks) -> str:
    lines = ["# Protocols", "", "Every protocol registered in `neurometarl.tasks.TASKS` (`neurometarl tasks` lists them), "
             "one page each with its citation and parameters. To add one, see [Add a new task](../add-a-task.md).", "",
             "| protocol | description |", "|---|---|"]
    lines += [f"| [`{name}`]({name}.md) | {_cell(entry.description)} |" for name, entry in tasks.items()]
    return "\n".join(lines) + "\n"


def cli_page() -> str:
    import contextlib
    import io

    from neurometarl.cli import COMMANDS, main

    def help_of(*argv: str) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main([*argv, "--help"])
        return out.getvalue().rstrip()

    lines = ["# Command-line reference", "",
             "Generated from the commands' typed configs (`neurometarl COMMAND --help` prints the same). Bad input "
             "prints one line naming the problem and exits with status 2.", "", "```text", help_of(), "```"]
    for name in COMMANDS:
        lines += ["", f"## `neurometarl {name}`", "", "```text", help_of(name), "```"]
    return "\n".join(lines) + "\n"


def on_files(files, config):
    from neurometarl.tasks import TASKS

    pages = {"protocols/index.md": protocols_index(TASKS), "cli.md": cli_page()}
    pages.update({f"protocols/{name}.md": protocol_page(name, entry) for name, entry in TASKS.items()})
    for path, content in pages.items():
        files.append(File.generated(config, path, content=content))
    return files

