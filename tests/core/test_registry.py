import subprocess
import sys
import textwrap

import pytest

from trustbench import Method, register_method
from trustbench.core import registry
from trustbench.core.errors import PluginError, RegistryError

from .conftest import BROKEN, DEMO, INCOMPLETE


def test_unknown_family_names_available():
    with pytest.raises(RegistryError, match="unknown family 'unlearnin'.*unlearning"):
        registry.get_family("unlearnin")


def test_unknown_method_names_available(demo_family):
    with pytest.raises(RegistryError, match="unknown method 'median'.*available methods: .*mean"):
        registry.get_method("demo", "median")


def test_missing_interface_method_rejected(demo_family):
    with pytest.raises(PluginError, match="does not implement 'estimate'.*add a method estimate"):
        registry.load_plugin_file(INCOMPLETE)


def test_decorator_rejects_missing_interface(demo_family):
    with pytest.raises(RegistryError, match="does not implement 'estimate'"):

        @register_method("demo", "no_estimate")
        class NoEstimate(Method):
            pass


def test_decorator_rejects_non_method(demo_family):
    with pytest.raises(RegistryError, match="must be a subclass of trustbench.Method"):
        register_method("demo", "plain")(object)


def test_invalid_kind_rejected(demo_family):
    with pytest.raises(RegistryError, match="invalid kind 'winner'"):
        register_method("demo", "x", kind="winner")


def test_name_clash_rejected(demo_family):
    with pytest.raises(RegistryError, match="already taken"):

        @register_method("demo", "mean")
        class OtherMean(Method):
            def estimate(self, sample):
                return 0.0


def test_plugin_file_missing(tmp_path):
    with pytest.raises(PluginError, match="not found"):
        registry.load_plugin_file(tmp_path / "nope.py")


def test_plugin_file_syntax_error(tmp_path):
    bad = tmp_path / "bad_plugin.py"
    bad.write_text("def broken(:\n")
    with pytest.raises(PluginError, match="failed to load plugin file.*SyntaxError"):
        registry.load_plugin_file(bad)


def test_plugin_source_recorded(demo_family):
    registry.load_plugin_file(BROKEN)
    assert registry.get_method("demo", "raises").source == f"file {BROKEN.resolve()}"
    assert registry.get_method("demo", "mean").source == f"file {DEMO.resolve()}"


def _write_distribution(site, module_body):
    (site / "thirdparty_methods.py").write_text(textwrap.dedent(module_body))
    dist = site / "thirdparty_methods-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: thirdparty-methods\nVersion: 0.1\n"
    )
    (dist / "entry_points.txt").write_text(
        "[trustbench.methods]\nthirdparty = thirdparty_methods\n"
    )


def test_entry_point_distribution_listed(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _write_distribution(
        site,
        """
        from trustbench import Method, register_method

        @register_method("unlearning", "thirdparty_noop", kind="baseline")
        class ThirdPartyNoop(Method):
            def fit(self, problem):
                self.theta = problem.theta.copy()

            def delete(self, indices):
                return self.theta
        """,
    )
    result = subprocess.run(
        [sys.executable, "-m", "trustbench", "list", "unlearning"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "thirdparty_noop" in result.stdout
    assert "entry point thirdparty (thirdparty-methods)" in result.stdout


def test_broken_entry_point_one_line_error(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _write_distribution(site, "raise ImportError('missing dependency foo')\n")
    result = subprocess.run(
        [sys.executable, "-m", "trustbench", "list", "unlearning"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 2
    assert "failed to load plugin entry point thirdparty" in result.stderr
    assert "Traceback" not in result.stderr
