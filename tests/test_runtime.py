"""mlcourse.runtime: device choice, seeding, threads, progress."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from mlcourse import runtime


def test_default_device_follows_cuda_mps_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert runtime.get_device().type == expected


def test_fake_availability_changes_the_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    monkeypatch.setattr(runtime, "_available", lambda name: name in {"mps", "cpu"})
    assert runtime.get_device().type == "mps"
    monkeypatch.setattr(runtime, "_available", lambda name: True)
    assert runtime.get_device().type == "cuda"


def test_env_var_and_argument_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(runtime.DEVICE_ENV, "cpu")
    assert runtime.get_device() == torch.device("cpu")
    monkeypatch.setenv(runtime.DEVICE_ENV, "tpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'.*cuda, mps, cpu"):
        runtime.get_device()
    assert runtime.get_device("cpu") == torch.device("cpu")  # the argument wins over the env var
    assert runtime.get_device(torch.device("cpu")) == torch.device("cpu")  # a torch.device is a name too


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_device_raises_listing_the_usable_ones() -> None:
    with pytest.raises(ValueError, match="'cuda' is not available.*cpu"):
        runtime.get_device("cuda")


def test_seed_everything_repeats_every_generator() -> None:
    def draw():
        return random.random(), np.random.rand(), torch.rand(3).tolist()

    runtime.seed_everything(7)
    first = draw()
    runtime.seed_everything(7)
    assert draw() == first
    runtime.seed_everything(8)
    assert draw() != first


def test_threads_pinned_from_argument_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv(runtime.THREADS_ENV, "2")
        assert runtime.set_threads() == 2 and torch.get_num_threads() == 2
        assert runtime.set_threads(1) == 1 and torch.get_num_threads() == 1
        with pytest.raises(ValueError, match=">= 1"):
            runtime.set_threads(0)
    finally:
        torch.set_num_threads(before)


def test_track_passes_through_or_wraps() -> None:
    items = [1, 2, 3]
    assert runtime.track(items) is items
    seen = []
    assert list(runtime.track(items, lambda it, **kw: (seen.append(kw), it)[1], desc="x")) == items
    assert seen == [{"desc": "x"}]
    assert list(runtime.track(items, True, disable=True)) == items
