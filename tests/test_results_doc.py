"""benchmarks/RESULTS.md is generated from the JSON results: a hand edit (or a JSON added
without regenerating) makes the committed file disagree with what the generator writes."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_results_md_matches_its_generator():
    bench = ROOT / "benchmarks"
    if not (bench / "make_results.py").is_file():
        pytest.skip("benchmarks/ is not part of this checkout")
    sys.path.insert(0, str(bench))
    try:
        import make_results
    finally:
        sys.path.remove(str(bench))
    expected = make_results.render(figures=False)
    actual = (bench / "RESULTS.md").read_text()
    assert actual == expected, (
        "benchmarks/RESULTS.md differs from `python benchmarks/make_results.py`'s output: "
        "put hand-written sections in benchmarks/results/<name>.md and regenerate"
    )


def test_summary_links_only_figures_that_exist():
    text = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    for line in text.splitlines():
        if line.startswith("![") and "](figures/" in line:
            target = line.split("](", 1)[1].rstrip(")")
            assert (ROOT / "benchmarks" / target).is_file(), target
