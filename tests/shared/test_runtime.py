"""Budgets, settings, seeding and the run header."""
import platform

import numpy as np
import pytest

from shared import runtime
from shared.runtime import ConfigError

SETTINGS = {"quick": {"n": 1, "epochs": 1}, "default": {"n": 10, "epochs": 2},
            "full": {"n": 100, "epochs": 3}}


@pytest.mark.parametrize("value", ["fast", "FULLL", "1"])
def test_unknown_budget_is_rejected(monkeypatch, value):
    monkeypatch.setenv("BACKPROP_BUDGET", value)
    with pytest.raises(ConfigError, match="quick, default, full"):
        runtime.current_budget()


def test_budget_default_and_case(monkeypatch):
    monkeypatch.delenv("BACKPROP_BUDGET", raising=False)
    assert runtime.current_budget() == "default"
    monkeypatch.setenv("BACKPROP_BUDGET", " Quick ")
    assert runtime.current_budget() == "quick"


def test_choose_settings_picks_row(monkeypatch):
    monkeypatch.setenv("BACKPROP_BUDGET", "full")
    assert runtime.choose_settings(SETTINGS) == {"n": 100, "epochs": 3, "budget": "full"}


def test_missing_setting_is_one_clear_line():
    bad = {**SETTINGS, "full": {"n": 100}}
    with pytest.raises(ConfigError, match="budget 'full' is missing setting\\(s\\) epochs"):
        runtime.choose_settings(bad, "quick")
    with pytest.raises(ConfigError, match="no row for budget"):
        runtime.choose_settings({"quick": {}}, "quick")


def test_seed_everything_repeats():
    a = runtime.seed_everything(3).normal(size=4), np.random.rand(2)
    b = runtime.seed_everything(3).normal(size=4), np.random.rand(2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_run_header_prints_provenance(capsys):
    info = runtime.run_header("test_nb", 7, runtime.choose_settings(SETTINGS, "quick"))
    out = capsys.readouterr().out
    assert "budget: quick" in out and "seed: 7" in out and "numpy" in out and "commit" in out
    assert info["settings"] == {"n": 1, "epochs": 1}


def test_header_names_the_onednn_setting(monkeypatch, capsys):
    runtime.import_tensorflow()
    for value, shown in (("0", "off"), ("1", "on"), (None, "TF default")):
        if value is None:
            monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
        else:
            monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", value)
        runtime.run_header("test_nb", 7, runtime.choose_settings(SETTINGS, "quick"))
        assert f"oneDNN {shown} |" in capsys.readouterr().out


def test_gpu_required_but_absent(monkeypatch):
    tf = runtime.import_tensorflow()
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    with pytest.raises(ConfigError, match="GPU was requested"):
        runtime.import_tensorflow(require_gpu=True)


def test_cpu_name_tells_the_vector_instructions():
    # two machines that both call themselves "AMD EPYC" train at very different speeds
    entry = ("processor\t: {n}\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n"
             "flags\t\t: {flags}\n\n")
    with_512 = "".join(entry.format(n=n, flags="fpu avx2 avx512f avx512_bf16") for n in range(2))
    assert runtime.cpu_name(with_512) == "AMD EPYC (family 26, model 2, AVX-512)"
    assert runtime.cpu_name(entry.format(n=0, flags="fpu avx avx2 fma")).endswith("model 2, AVX2)")
    assert runtime.cpu_name("processor\t: 0\nBogoMIPS\t: 50.00\n") == (platform.processor()
                                                                     or platform.machine())


def test_settings_override_replaces_known_values_only(monkeypatch):
    monkeypatch.setenv("BACKPROP_SETTINGS", '{"epochs": 1}')
    assert runtime.choose_settings(SETTINGS, "full") == {"n": 100, "epochs": 1, "budget": "full"}
    for bad, message in (('{"epoch": 1}', "does not have: epoch"), ("epochs=1", "not a JSON")):
        monkeypatch.setenv("BACKPROP_SETTINGS", bad)
        with pytest.raises(ConfigError, match=message):
            runtime.choose_settings(SETTINGS, "full")


class _FakeTF:
    """TensorFlow's two calls that seed_everything's determinism request makes."""

    def __init__(self, gpus, enable):
        self.enabled = []
        config = type("config", (), {})()
        config.list_physical_devices = lambda kind: list(gpus) if kind == "GPU" else []
        config.experimental = type("experimental", (), {})()
        config.experimental.enable_op_determinism = lambda: self.enabled.append(enable())
        self.config = config


def test_determinism_is_requested_on_the_cpu_only(monkeypatch, capsys):
    monkeypatch.setattr(runtime, "_determinism_note_shown", False)
    cpu = _FakeTF(gpus=[], enable=lambda: True)
    runtime._request_determinism(cpu)
    assert cpu.enabled == [True] and capsys.readouterr().out == ""
    gpu = _FakeTF(gpus=["GPU:0"], enable=lambda: True)
    runtime._request_determinism(gpu)
    runtime._request_determinism(gpu)  # seed_everything runs once per experiment: said once
    out = capsys.readouterr().out
    assert gpu.enabled == [] and out.count("\n") == 1 and "not requested" in out


def test_determinism_failure_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(runtime, "_determinism_note_shown", False)

    def refuse():
        raise RuntimeError("no deterministic kernels here")
    runtime._request_determinism(_FakeTF(gpus=[], enable=refuse))
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "no deterministic kernels here" in out


def test_start_names_the_notebook_once_and_seeds_before_the_header(monkeypatch, capsys):
    from shared.notebook import start
    settings = {b: {"epochs": i} for i, b in enumerate(runtime.BUDGETS, start=1)}
    runs = []
    for budget in ("quick", "full"):
        monkeypatch.setenv(runtime.BUDGET_ENV, budget)
        run = start("02_multichannel_cnn_digits", settings, seed=5, data="digits")
        runs.append((run, np.random.rand()))
        assert run.loop.notebook == run.header["notebook"] == "02_multichannel_cnn_digits"
    (quick, draw_q), (full, draw_f) = runs
    assert draw_q == draw_f and quick.rng.random() == full.rng.random()   # seeded alike
    assert quick.cfg == {"epochs": 1, "budget": "quick"} and not quick.loop.checkpoints
    assert full.loop.checkpoints                        # checkpoints follow the budget
    assert "02_multichannel_cnn_digits | budget: quick | seed: 5" in capsys.readouterr().out
    assert len(quick.code_hash()) == 12
