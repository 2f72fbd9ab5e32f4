import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _declared_packages():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(config["tool"]["setuptools"]["packages"])


def _package_folders():
    found = set()
    for top, name in (("trustbench", "trustbench"), ("baselines", "trustbench_baselines")):
        for init in (ROOT / top).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / top)
            found.add(".".join([name, *relative.parts]))
    return found


def test_every_package_folder_declared():
    missing = _package_folders() - _declared_packages()
    assert not missing, f"add these packages to [tool.setuptools] packages: {sorted(missing)}"


def test_every_declared_package_exists():
    stale = _declared_packages() - _package_folders()
    assert not stale, f"remove these packages from [tool.setuptools] packages: {sorted(stale)}"
