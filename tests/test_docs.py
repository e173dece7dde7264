"""The user guide stays true to the code: its Python examples run, its commands exist."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(DOCS.glob("*.md"))
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(text: str) -> list[str]:
    """The fenced blocks marked ``python`` (not ``python skip``), in order."""
    return _BLOCK.findall(text)


def test_the_guide_has_its_pages():
    names = {p.name for p in PAGES}
    for page in ("models.md", "pipelines.md", "evaluation.md", "privacy.md", "scale.md"):
        assert page in names
    assert {"cli.md", "files.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_python_examples_run(page, tmp_path, monkeypatch):
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, block in enumerate(blocks):
            exec(compile(block, f"{page.name}[block {i}]", "exec"), namespace)


def test_commands_named_in_the_guide_exist():
    from tabgen.cli.parser import build_parser

    parser = build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    named = set()
    for page in PAGES:
        named |= set(re.findall(r"`tabgen ([a-z][a-z-]+)", page.read_text(encoding="utf-8")))
    assert named, "the guide names no command"
    assert named <= set(choices), sorted(named - set(choices))


def test_links_between_pages_resolve():
    for page in PAGES:
        for target in re.findall(r"\]\(([a-zA-Z_]+\.md)", page.read_text(encoding="utf-8")):
            assert (DOCS / target).exists(), f"{page.name} links to missing {target}"


def test_skip_marker_is_the_only_other_python_fence():
    for page in PAGES:
        fences = re.findall(r"^```python(.*)$", page.read_text(encoding="utf-8"), re.M)
        assert set(fences) <= {"", " skip"}, (page.name, fences)
