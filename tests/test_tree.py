"""The checkout itself: no file carries the markers of an unresolved merge."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUFFIXES = {".py", ".pyx", ".pxi", ".pxd", ".lua", ".md", ".sh", ".txt", ".toml", ".map"}


def test_no_merge_conflict_markers():
    found = []
    for folder in ("sparktorch7", "tests", "jobs", "benchmarks", "scripts", "docs", "examples"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if line.startswith(("<<<<<<< ", ">>>>>>> ")) or line == "=======" and path.suffix != ".md":
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line[:40]}")
    assert not found, "\n".join(found)
