"""mlcourse.memory.peak_memory against allocations of known size."""

from __future__ import annotations

import pytest
import torch

from mlcourse.memory import peak_memory

MB = 2**20
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_one_tensor_is_counted_once(device):
    peak = peak_memory(lambda: torch.empty(MB, dtype=torch.uint8, device=device), device)
    assert MB <= peak < MB + 4096


@pytest.mark.parametrize("device", DEVICES)
def test_freed_memory_does_not_add_up_but_live_memory_does(device):
    def one_after_the_other():
        for _ in range(4):
            torch.empty(MB, dtype=torch.uint8, device=device)  # freed at once

    def all_alive():
        return [torch.empty(MB, dtype=torch.uint8, device=device) for _ in range(4)]

    assert peak_memory(one_after_the_other, device) < 2 * MB
    assert peak_memory(all_alive, device) >= 4 * MB


def test_memory_that_was_live_before_is_not_counted():
    before = torch.empty(8 * MB, dtype=torch.uint8)
    assert peak_memory(lambda: before.add_(1)) < MB
