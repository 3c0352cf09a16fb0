import ast
from pathlib import Path

import dengkou_aid.lib

PROJECT_APPS = {"accounts", "cases", "disbursement", "supervision"}
LIB_DIR = Path(dengkou_aid.lib.__file__).parent


def imported_top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_toolkit_imports_no_project_app():
    for path in LIB_DIR.glob("*.py"):
        assert not imported_top_level_names(path) & PROJECT_APPS, path.name


def test_the_toolkit_imports_from_dengkou_aid_only_within_lib():
    for path in LIB_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dengkou_aid"):
                assert node.module.startswith("dengkou_aid.lib"), path.name
