"""The architecture holds: pages call only ``ui`` and the services, ``ui`` never reaches back
into pages, the core stays pure (no Streamlit), and the one Streamlit internal the app relies
on is still where it was checked."""

import ast
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE_FILES = sorted((ROOT / "pages").glob("*.py"))
CORE_FILES = sorted((ROOT / "core").rglob("*.py"))
UI_FILES = sorted((ROOT / "ui").rglob("*.py"))


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, dotted in full (``from a.b import c`` gives ``a.b`` and
    ``a.b.c``, since ``c`` may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _top(name: str) -> str:
    return name.split(".")[0]


def test_the_checks_find_every_layer():
    assert len(PAGE_FILES) >= 5 and len(CORE_FILES) >= 30 and len(UI_FILES) >= 8


def test_core_never_imports_streamlit():
    offenders = [
        str(path.relative_to(ROOT))
        for path in CORE_FILES
        if "streamlit" in {_top(n) for n in _imported_modules(path)}
    ]
    assert offenders == []


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_pages_call_only_ui_and_the_services(path):
    allowed = {"streamlit", "ui", "core.services"}
    imported = _imported_modules(path)
    outside = {
        name
        for name in imported
        if not any(name == a or name.startswith(f"{a}.") for a in allowed)
        and not (name == "core" and "core.services" in imported)
    }
    assert outside == set(), f"{path.name} imports {sorted(outside)}"


# The core's layers, top first: a module may import its own layer and those below it.
CORE_LAYERS = (
    ("core.cli", "core.__main__"),
    ("core.report", "core.sweep", "core.commands"),
    ("core.services",),
    ("core.runs", "core.datasets", "core.batch"),
    ("core.overview", "core.purchase", "core.recommend", "core.images"),
    ("core.data", "core.ml", "core.voice"),
    ("core.plotting", "core.params", "core.schema", "core.errors", "core.config"),
)


def _layer(module: str) -> int | None:
    if module == "core":  # the package itself: a docstring
        return len(CORE_LAYERS) - 1
    for depth, layer in enumerate(CORE_LAYERS):
        if any(module == name or module.startswith(f"{name}.") for name in layer):
            return depth
    return None


def _module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_core_module_has_a_layer():
    assert [str(p) for p in CORE_FILES if _layer(_module_of(p)) is None] == []


def test_the_core_imports_only_downwards():
    upwards = []
    for path in CORE_FILES:
        own = _layer(_module_of(path))
        assert own is not None
        for name in _imported_modules(path):
            layer = _layer(name)
            if layer is not None and layer < own:
                upwards.append(f"{_module_of(path)} imports {name}")
    assert upwards == []


def test_ui_never_imports_pages_and_only_ui_and_pages_import_streamlit():
    for path in UI_FILES:
        assert "pages" not in {_top(n) for n in _imported_modules(path)}, path.name
    others = [p for p in (ROOT / "benchmarks").rglob("*.py")] + CORE_FILES
    for path in others:
        assert "streamlit" not in {_top(n) for n in _imported_modules(path)}, path.name


def test_the_pages_directory_switch_is_where_this_streamlit_keeps_it():
    """``ui.state.run_inside_app`` turns off Streamlit's older ``pages/`` discovery, which no
    public setting controls; this fails loudly when an upgrade moves that internal."""
    from streamlit.commands import navigation
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import script_runner

    assert hasattr(PagesManager, "uses_pages_directory")
    assert "PagesManager.uses_pages_directory = False" in inspect.getsource(navigation)
    assert "if PagesManager.uses_pages_directory:" in inspect.getsource(script_runner)
    pinned = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "streamlit>=1.67,<1.68" in pinned  # the minor version this was checked on


def test_every_table_goes_through_the_one_table_widget():
    """``ui.widgets.table`` shows missing values as a dash; a bare ``st.dataframe`` would show
    Streamlit's literal "None"."""
    bare = []
    for path in [*UI_FILES, *PAGE_FILES]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "dataframe"
            and not any(kw.arg == "placeholder" for kw in node.keywords)
        ]
        bare += [f"{path.name}:{call.lineno}" for call in calls]
    assert bare == []
