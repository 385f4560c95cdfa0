"""The README's examples run as written. The ```python blocks of its "Scoring on
Spark" section are taken from README.md itself, run by this interpreter in a fresh
process without PYSPARK_PYTHON (as a user of the project's .venv would), and each
``# [Row(...)]`` comment under a print is compared with what was printed. The other
```python blocks need no Spark: they run in order in one fresh process, and the values
their comments state are checked (see below)."""
from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import sys
import tokenize

import pytest

from spark_fixtures import ROOT

README = os.path.join(ROOT, "README.md")


def section_blocks(title: str, lang: str = "python") -> list:
    text = open(README, encoding="utf-8").read()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    body = text[start:end if end >= 0 else None]
    return re.findall(rf"```{lang}\n(.*?)```", body, flags=re.S)


def user_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "PYSPARK_GATEWAY_PORT")}
    env["PYTHONPATH"] = ROOT            # a checkout, as the README's commands run it
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    return env


def test_the_spark_section_has_examples_with_expected_output():
    blocks = section_blocks("Scoring on Spark")
    assert blocks, "README.md's 'Scoring on Spark' section lost its python example"
    code = "\n".join(blocks)
    assert "SparkSession.builder" in code and "getOrCreate()" in code
    assert code.count("print(") == len(re.findall(r"^# \[", code, flags=re.M)) >= 4


def test_importing_sparktorch7_points_workers_at_this_interpreter():
    code = "import os, sys, sparktorch7; print(os.environ['PYSPARK_PYTHON'] == sys.executable)"
    proc = subprocess.run([sys.executable, "-c", code], env=user_env(), capture_output=True,
                          text=True, timeout=120)
    assert proc.stdout.strip() == "True", proc.stderr[-2000:]
    # a value the user set wins
    env = dict(user_env(), PYSPARK_PYTHON="/opt/python")
    code = "import os, sparktorch7; print(os.environ['PYSPARK_PYTHON'])"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.strip() == "/opt/python", proc.stderr[-2000:]


@pytest.mark.spark
def test_readme_spark_example_runs_as_written(tmp_path):
    code = "\n".join(section_blocks("Scoring on Spark"))
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=user_env(),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    expected = [line[2:] for line in code.splitlines() if line.startswith("# [")]
    printed = [line for line in proc.stdout.splitlines() if line.startswith("[")]
    assert printed == expected


# ---------------------------------------------------------------- the other python blocks
# The README's examples outside "Scoring on Spark" need no Spark: they run in order, in one
# fresh interpreter (as a user pasting them into a session would), in a folder where the
# files they name are the real Torch7 fixtures. A bare expression followed by a comment that
# is a Python literal (``lua.DoIt(3, 4.5)  # (7.5, 13.5)``) must give that value.
FIXTURES = "/work/shared/fixtures"
README_FILES = {
    "mnist_mlp_cuda.t7": f"{FIXTURES}/t7/models/mnist_mlp_cuda.t7",
    "cv/checkpoint_18000.t7": f"{FIXTURES}/wild/torch-rnn_checkpoint_18000.t7",
    "lm_lstm.t7": f"{FIXTURES}/wild/char-rnn_lm_lstm_epoch0.16.t7",
    "torch-rnn": f"{FIXTURES}/projects/torch-rnn",
    "char-rnn": f"{FIXTURES}/projects/char-rnn",
}


def readme_blocks_outside(title: str, lang: str = "python") -> list:
    """(line number, code) of the README's ``lang`` blocks outside the section ``title``."""
    text = open(README, encoding="utf-8").read()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    out = []
    for m in re.finditer(rf"```{lang}\n(.*?)```", text, flags=re.S):
        if not start <= m.start() < (end if end >= 0 else len(text)):
            out.append((text.count("\n", 0, m.start(1)) + 1, m.group(1)))
    return out


class _Checks(ast.NodeTransformer):
    """Turns ``expr  # literal`` statements into checks of the value."""

    def __init__(self, comments: dict, first_line: int):
        self.comments = comments
        self.first_line = first_line
        self.count = 0

    def visit_Expr(self, node):
        comment = self.comments.get(node.end_lineno)
        if comment is None:
            return node
        try:
            expected = ast.literal_eval(comment)
        except (ValueError, SyntaxError):
            return node            # prose, not a value
        self.count += 1
        where = f"README.md:{self.first_line + node.lineno - 1}"
        call = ast.Call(ast.Name("__readme_check", ast.Load()),
                        [node.value, ast.Constant(expected), ast.Constant(where)], [])
        return ast.copy_location(ast.Expr(call), node)


def checked_source(code: str, first_line: int) -> tuple:
    comments = {tok.start[0]: tok.string[1:].strip()
                for tok in tokenize.generate_tokens(io.StringIO(code).readline)
                if tok.type == tokenize.COMMENT}
    checks = _Checks(comments, first_line)
    tree = ast.fix_missing_locations(checks.visit(ast.parse(code)))
    return ast.unparse(tree), checks.count


CHECK_PRELUDE = '''
def __readme_check(value, expected, where):
    if value != expected:
        raise AssertionError(f"{where}: got {value!r}, the README says {expected!r}")
    print("checked", where)
'''


def test_every_python_block_is_run_by_a_test():
    text = open(README, encoding="utf-8").read()
    total = len(re.findall(r"```python\n", text))
    assert len(readme_blocks_outside("Scoring on Spark")) + len(section_blocks("Scoring on Spark")) == total
    # and none of the ones run without Spark needs it
    for line, code in readme_blocks_outside("Scoring on Spark"):
        assert not re.search(r"SparkSession|\bspark\.|lua_udf|map_partitions|\bscore\(", code), line


def test_the_checker_catches_a_wrong_value():
    code, n = checked_source("x = 2\nx + 1   # 4\nx  # a comment\n", 10)
    assert n == 1
    proc = subprocess.run([sys.executable, "-c", CHECK_PRELUDE + code], capture_output=True, text=True)
    assert proc.returncode != 0 and "README.md:11: got 3, the README says 4" in proc.stderr


def test_readme_python_examples_run_as_written(tmp_path):
    for name, target in README_FILES.items():
        os.makedirs(os.path.dirname(tmp_path / name), exist_ok=True)
        os.symlink(target, tmp_path / name)
    parts, checks = [CHECK_PRELUDE], 0
    for line, code in readme_blocks_outside("Scoring on Spark"):
        source, n = checked_source(code, line)
        parts.append(source)
        checks += n
    assert checks >= 7, "the README's examples lost their checked values"
    proc = subprocess.run([sys.executable, "-c", "\n".join(parts)], cwd=str(tmp_path), env=user_env(),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.count("checked README.md:") == checks
