"""`auto` means the GPU where the runtime that does the work has one, else the CPU."""

from __future__ import annotations

import pytest

from ccgen import devices
from ccgen.errors import InputError


def test_names_are_checked() -> None:
    with pytest.raises(InputError, match="unknown device 'tpu'"):
        devices.resolve("tpu")
    with pytest.raises(InputError):
        devices.check("cuda:1")  # an index only where the runtime takes one (torch)
    assert devices.resolve("cuda:1", "torch") == "cuda:1"
    assert devices.resolve("cpu") == "cpu"


@pytest.mark.parametrize("gpus", [0, 1])
def test_auto_asks_the_runtime(monkeypatch: pytest.MonkeyPatch, gpus: int) -> None:
    ctranslate2 = pytest.importorskip("ctranslate2")
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: gpus)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: bool(gpus))
    want = "cuda" if gpus else "cpu"
    assert devices.resolve("auto", "ctranslate2") == want
    assert devices.resolve("auto", "torch") == want
